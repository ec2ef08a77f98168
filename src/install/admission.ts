import { ANNOTATIONS, GITHUB_RECEIVER, GITHUB_USER_PREFIX, GROUP, LABELS, RUN, VERSION, WORKSPACE } from "../api/group.js";
import { ARCHIVE_COMPONENT, CHUNK_KEY, CHUNK_SECRET_TYPE } from "../archive/chunks.js";
import { ALWAYS_PRIVILEGED, STATE_WRITES } from "../api/commands.js";
import type { KubeObject } from "../kube/client.js";

const CREATED_BY = ANNOTATIONS.createdBy;
const CREATED_BY_GROUPS = ANNOTATIONS.createdByGroups;

const runRules = (operations: string[]) => [{ apiGroups: [GROUP], apiVersions: ["*"], operations, resources: [RUN.plural] }];

/** CEL for an annotation of the object (or of the object before an update), '' when absent. */
const annotation = (key: string, of: "object" | "oldObject" = "object") =>
  `(has(${of}.metadata.annotations) && '${key}' in ${of}.metadata.annotations ? ${of}.metadata.annotations['${key}'] : '')`;
const groups = "(has(request.userInfo.groups) ? request.userInfo.groups : []).join(',')";

/** A ValidatingAdmissionPolicy that fails closed, and its binding that denies what it refuses. */
function validatingPolicy(name: string, spec: Record<string, unknown>, binding: Record<string, unknown> = {}): KubeObject[] {
  return [
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name }, spec: { failurePolicy: "Fail", ...spec } },
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding", metadata: { name }, spec: { policyName: name, validationActions: ["Deny"], ...binding } },
  ];
}

/**
 * Fills in who creates a run from the admission request itself, when the client did not
 * say. Needs the MutatingAdmissionPolicy API (beta in Kubernetes 1.34); without it the
 * client says, and the validating policy below checks it.
 */
export function runCreatorMutation(): KubeObject[] {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1beta1",
      kind: "MutatingAdmissionPolicy",
      metadata: { name: "ktf-run-creator" },
      spec: {
        failurePolicy: "Fail",
        reinvocationPolicy: "Never",
        matchConstraints: { resourceRules: runRules(["CREATE"]) },
        matchConditions: [{ name: "no-claim", expression: `${annotation(CREATED_BY)} == ''` }],
        mutations: [
          {
            patchType: "ApplyConfiguration",
            applyConfiguration: {
              expression: `Object{metadata: Object.metadata{annotations: {'${CREATED_BY}': request.userInfo.username, '${CREATED_BY_GROUPS}': ${groups}}}}`,
            },
          },
        ],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1beta1",
      kind: "MutatingAdmissionPolicyBinding",
      metadata: { name: "ktf-run-creator" },
      spec: { policyName: "ktf-run-creator" },
    },
  ];
}

/**
 * A run records its creator: on creation the record must be the requester (a run claiming
 * someone else is rejected), and it never changes afterwards.
 */
function runCreatorValidation(): KubeObject[] {
  return validatingPolicy("ktf-run-creator", {
    matchConstraints: { resourceRules: runRules(["CREATE", "UPDATE"]) },
    variables: [
      { name: "claimed", expression: annotation(CREATED_BY) },
      { name: "claimedGroups", expression: annotation(CREATED_BY_GROUPS) },
    ],
    validations: [
      {
        expression: `request.operation != 'CREATE' || variables.claimed == request.userInfo.username`,
        messageExpression: `'metadata.annotations[${CREATED_BY}] must be the user creating the run (' + request.userInfo.username + '), not "' + variables.claimed + '"'`,
        reason: "Forbidden",
      },
      {
        // Required with the user: the operator checks the creator's rights again, groups and all.
        expression: `request.operation != 'CREATE' || variables.claimedGroups == ${groups}`,
        messageExpression: `'metadata.annotations[${CREATED_BY_GROUPS}] must be the groups of the user creating the run (' + ${groups} + ')'`,
        reason: "Forbidden",
      },
      {
        expression: `request.operation != 'UPDATE' || (variables.claimed == ${annotation(CREATED_BY, "oldObject")} && variables.claimedGroups == ${annotation(CREATED_BY_GROUPS, "oldObject")})`,
        message: `metadata.annotations[${CREATED_BY}] and [${CREATED_BY_GROUPS}] cannot change`,
        reason: "Forbidden",
      },
    ],
  });
}

/**
 * A run of a command its workspace lists as privileged needs that command as an RBAC verb
 * on the workspace (`apply` on workspaces.ktf.dev/<name>), whoever creates it. Each
 * Workspace of the namespace is a parameter; only the run's own workspace's list counts.
 */
function privilegedCommandsValidation(receiver: string): KubeObject[] {
  const writes = JSON.stringify([...STATE_WRITES]).replace(/"/g, "'");
  return validatingPolicy("ktf-run-privileged-commands", {
    paramKind: { apiVersion: `${GROUP}/${VERSION}`, kind: WORKSPACE.kind },
    matchConstraints: { resourceRules: runRules(["CREATE"]) },
    variables: [
      { name: "positional", expression: "object.spec.args.filter(a, !a.startsWith('-'))" },
      {
        name: "privileged",
        expression:
          `params.metadata.name == object.spec.workspace && (object.spec.command in ${JSON.stringify([...ALWAYS_PRIVILEGED]).replace(/"/g, "'")} || (has(params.spec.privilegedCommands) && object.spec.command in params.spec.privilegedCommands))` +
          ` && (object.spec.command != 'state' || (size(variables.positional) > 0 && variables.positional[0] in ${writes}))`,
      },
    ],
    validations: [
      {
        // A run the GitHub receiver creates for a GitHub user is that user's: CEL cannot ask
        // about another user, so the operator's SubjectAccessReview for them decides before it starts.
        expression: `!variables.privileged || (request.userInfo.username == '${receiver}' && ${annotation(ANNOTATIONS.onBehalfOf)} != '') || authorizer.group('${GROUP}').resource('${WORKSPACE.plural}').namespace(object.metadata.namespace).name(object.spec.workspace).check(object.spec.command).allowed()`,
        messageExpression:
          `'user ' + request.userInfo.username + ' may not run ' + object.spec.command + ' in workspace ' + object.spec.workspace + ` +
          `': it needs the RBAC verb "' + object.spec.command + '" on ${WORKSPACE.plural}.${GROUP} "' + object.spec.workspace + '" in namespace ' + object.metadata.namespace`,
        reason: "Forbidden",
      },
    ],
  },
  // Every Workspace in the run's namespace; none at all means no privileged list applies.
  { paramRef: { selector: {}, parameterNotFoundAction: "Allow" } });
}

/** The RBAC marker of ktf's uploaders (ktf-user, ktf-admin): `create` on runs/archive. */
export const UPLOAD_RIGHT = { apiGroups: [GROUP], resources: [`${RUN.plural}/archive`], verbs: ["create"] };

/**
 * ktf-user may create Secrets only to upload configurations: that right must not become
 * the right to create any Secret (a service-account token Secret mints a token for any
 * ServiceAccount of the namespace). Whoever holds ktf's upload right and may not update
 * Secrets anyway (which edit and admin roles may) creates only archive chunks: owned by a
 * Run, so they go with it, immutable, of ktf's own type, one `chunk` key, no annotations.
 */
function archiveUploadValidation(): KubeObject[] {
  const may = (g: string, resource: string, sub: string, verb: string) =>
    `authorizer.group('${g}').resource('${resource}')${sub ? `.subresource('${sub}')` : ""}.namespace(request.namespace).check('${verb}').allowed()`;
  const rule = (expression: string, message: string) => ({ expression, message: `a ktf user may create only configuration archive chunks: ${message}`, reason: "Forbidden" });
  return validatingPolicy("ktf-archive-upload", {
    matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"] }] },
    matchConditions: [
      { name: "ktf-uploader", expression: may(GROUP, RUN.plural, "archive", "create") },
      { name: "no-other-secret-rights", expression: `!${may("", "secrets", "", "update")}` },
    ],
    validations: [
      rule(`has(object.type) && object.type == '${CHUNK_SECRET_TYPE}'`, `type must be ${CHUNK_SECRET_TYPE}`),
      rule(
        `has(object.metadata.labels) && '${LABELS.component}' in object.metadata.labels && object.metadata.labels['${LABELS.component}'] == '${ARCHIVE_COMPONENT}'`,
        `metadata.labels[${LABELS.component}] must be ${ARCHIVE_COMPONENT}`,
      ),
      rule(
        `has(object.metadata.ownerReferences) && size(object.metadata.ownerReferences) == 1 && object.metadata.ownerReferences[0].kind == '${RUN.kind}' && object.metadata.ownerReferences[0].apiVersion.startsWith('${GROUP}/')`,
        `metadata.ownerReferences must be exactly one ${RUN.kind} (${GROUP})`,
      ),
      rule(`has(object.data) && size(object.data) == 1 && '${CHUNK_KEY}' in object.data && !has(object.stringData)`, `data must hold the one key ${CHUNK_KEY}`),
      rule(`has(object.immutable) && object.immutable`, "immutable must be true"),
      rule(`!has(object.metadata.annotations) || size(object.metadata.annotations) == 0`, "metadata.annotations must be empty"),
    ],
  });
}

/**
 * What ties a run to its workspace and holds it until its lock is released (owner
 * references, finalizers, the workspace label) is the operator's to change, and the
 * archive-digest label its alone to set: it says the run's archive is whole and matches
 * its digest, so that later runs reuse it. Whoever may not update runs/finalizers (users
 * and admins of ktf; the operator and the garbage collector may) changes none of it.
 */
function runMetadataValidation(): KubeObject[] {
  const same = (field: string) =>
    `request.operation == 'CREATE' || (has(object.metadata.${field}) ? object.metadata.${field} : []) == (has(oldObject.metadata.${field}) ? oldObject.metadata.${field} : [])`;
  const label = (key: string, of: "object" | "oldObject") => `(has(${of}.metadata.labels) && '${key}' in ${of}.metadata.labels ? ${of}.metadata.labels['${key}'] : '')`;
  const digest = LABELS.archiveDigest;
  return validatingPolicy("ktf-run-metadata", {
    matchConstraints: { resourceRules: runRules(["CREATE", "UPDATE"]) },
    matchConditions: [
      { name: "not-the-operator", expression: `!authorizer.group('${GROUP}').resource('${RUN.plural}').subresource('finalizers').namespace(request.namespace).check('update').allowed()` },
    ],
    validations: [
      { expression: same("ownerReferences"), message: "metadata.ownerReferences of a run cannot change (the operator sets them)", reason: "Forbidden" },
      { expression: same("finalizers"), message: "metadata.finalizers of a run cannot change (the operator removes its own once the state lock is released)", reason: "Forbidden" },
      { expression: `request.operation == 'CREATE' || ${label(LABELS.workspace, "object")} == ${label(LABELS.workspace, "oldObject")}`, message: `metadata.labels[${LABELS.workspace}] of a run cannot change`, reason: "Forbidden" },
      {
        expression: `request.operation == 'CREATE' ? ${label(digest, "object")} == '' : ${label(digest, "object")} == ${label(digest, "oldObject")}`,
        message: `metadata.labels[${digest}] of a run is set by the operator alone, once it has checked the run's configuration archive`,
        reason: "Forbidden",
      },
    ],
  });
}

/**
 * A cloud workspace whose deletionPolicy is destroy or force has its infrastructure (or its
 * TFC state) destroyed when the Workspace is deleted: setting that is a destroy, and needs
 * the RBAC verb `destroy` on the workspace, so that `delete` alone never destroys more than
 * the user who chose the policy could.
 */
function cloudDeletionPolicyValidation(): KubeObject[] {
  const policy = (of: "object" | "oldObject") =>
    `(has(${of}.spec.cloud) && has(${of}.spec.cloud.deletionPolicy) ? ${of}.spec.cloud.deletionPolicy : 'retain')`;
  return validatingPolicy("ktf-workspace-deletion-policy", {
    matchConstraints: { resourceRules: [{ apiGroups: [GROUP], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: [WORKSPACE.plural] }] },
    variables: [
      { name: "policy", expression: policy("object") },
      { name: "unchanged", expression: `request.operation == 'UPDATE' && ${policy("oldObject")} == variables.policy` },
    ],
    validations: [
      {
        expression: `!(variables.policy in ['destroy', 'force']) || variables.unchanged || authorizer.group('${GROUP}').resource('${WORKSPACE.plural}').namespace(object.metadata.namespace).name(object.metadata.name).check('destroy').allowed()`,
        messageExpression:
          `'user ' + request.userInfo.username + ' may not set spec.cloud.deletionPolicy to ' + variables.policy + ': deleting the Workspace would then destroy what it manages, which needs the RBAC verb "destroy" on ${WORKSPACE.plural}.${GROUP} "' + object.metadata.name + '" in namespace ' + object.metadata.namespace`,
        reason: "Forbidden",
      },
    ],
  });
}

/**
 * A module workspace with applyMethod auto is applied by the operator whenever its module,
 * variables or run-requested annotation change: making such a change is an apply, and needs
 * the RBAC verb `apply` on the workspace, so that `update` on a Workspace never applies more
 * than its user could with `ktf apply`.
 */
function moduleApplyValidation(): KubeObject[] {
  const field = (of: "object" | "oldObject", f: string) => `(has(${of}.spec.${f}) ? ${of}.spec.${f} : [])`;
  const trigger = (of: "object" | "oldObject") =>
    `[${field(of, "module")}, ${field(of, "variables")}, ${field(of, "env")}, (has(${of}.spec.cloud) ? ${of}.spec.cloud.applyMethod : ''), ${annotation(ANNOTATIONS.runRequested, of)}]`;
  return validatingPolicy("ktf-workspace-module-apply", {
    matchConstraints: { resourceRules: [{ apiGroups: [GROUP], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: [WORKSPACE.plural] }] },
    matchConditions: [{ name: "auto-applied-module", expression: "has(object.spec.module) && has(object.spec.cloud) && has(object.spec.cloud.applyMethod) && object.spec.cloud.applyMethod == 'auto'" }],
    validations: [
      {
        expression: `(request.operation == 'UPDATE' && ${trigger("object")} == ${trigger("oldObject")}) || authorizer.group('${GROUP}').resource('${WORKSPACE.plural}').namespace(object.metadata.namespace).name(object.metadata.name).check('apply').allowed()`,
        messageExpression:
          `'user ' + request.userInfo.username + ' may not change spec.module, its variables or applyMethod of workspace ' + object.metadata.name + ': with applyMethod auto the change is applied, which needs the RBAC verb "apply" on ${WORKSPACE.plural}.${GROUP} "' + object.metadata.name + '" in namespace ' + object.metadata.namespace`,
        reason: "Forbidden",
      },
    ],
  });
}

/** The validating policies: GA since Kubernetes 1.30, installed everywhere. */
/**
 * A Workspace that names a Secret hands its value to runs (as the engine's environment) or
 * to TFC (as a variable, a token): naming one needs `get` on it, so that `update` on a
 * Workspace never reads a Secret its user could not (another workspace's state, a token).
 * Only Secrets newly named are checked: a user who may not read one can still change the
 * rest of a Workspace that names it.
 */
function secretReferenceValidation(): KubeObject[] {
  const refs = (of: "object" | "oldObject") => {
    const valueRefs = (list: string) =>
      `(has(${of}.spec.${list}) ? ${of}.spec.${list}.filter(v, has(v.valueFrom) && has(v.valueFrom.secretKeyRef)).map(v, v.valueFrom.secretKeyRef.name) : [])`;
    const cloud = `has(${of}.spec.cloud)`;
    return [
      valueRefs("variables"),
      valueRefs("env"),
      `(has(${of}.spec.cliConfig) ? [${of}.spec.cliConfig.secretName] : [])`,
      `(${cloud} && has(${of}.spec.cloud.token) ? [${of}.spec.cloud.token.secretKeyRef.name] : [])`,
      `(${cloud} && has(${of}.spec.cloud.notifications) ? ${of}.spec.cloud.notifications.filter(n, has(n.token)).map(n, n.token.secretKeyRef.name) : [])`,
    ].join(" + ");
  };
  const readable = (name: string) => `authorizer.group('').resource('secrets').namespace(object.metadata.namespace).name(${name}).check('get').allowed()`;
  return validatingPolicy("ktf-workspace-secret-references", {
    matchConstraints: { resourceRules: [{ apiGroups: [GROUP], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: [WORKSPACE.plural] }] },
    variables: [
      { name: "old", expression: `request.operation == 'UPDATE' ? ${refs("oldObject")} : []` },
      { name: "named", expression: `(${refs("object")}).filter(n, !(n in variables.old))` },
      { name: "unreadable", expression: `variables.named.filter(n, !${readable("n")})` },
    ],
    validations: [
      {
        expression: "size(variables.unreadable) == 0",
        messageExpression:
          // A message cannot ask the authorizer, so it names every Secret newly named.
          `'user ' + request.userInfo.username + ' may not name in workspace ' + object.metadata.name + ' a Secret it may not read (it names ' + variables.named.join(', ') + '): the value of a named Secret reaches the runs of the workspace (or TFC), which needs the RBAC verb "get" on that Secret in namespace ' + object.metadata.namespace`,
        reason: "Forbidden",
      },
    ],
  });
}

/**
 * A Run made by the GitHub receiver for a GitHub user names them (on-behalf-of) and where it
 * came from (the github-* annotations): only the receiver may say so, only of a `github:`
 * user, and nobody changes it afterwards. Otherwise anyone who may create runs could pass
 * one off as a GitHub user's, or as the plan a pull request's check run shows.
 */
function onBehalfOfValidation(receiver: string): KubeObject[] {
  const keys = [ANNOTATIONS.onBehalfOf, ANNOTATIONS.githubRepository, ANNOTATIONS.githubPull, ANNOTATIONS.githubSha, ANNOTATIONS.githubInstallation, ANNOTATIONS.githubCheckRun];
  const claims = (of: "object" | "oldObject") => `[${keys.map((k) => annotation(k, of)).join(", ")}]`;
  return validatingPolicy("ktf-run-on-behalf-of", {
    matchConstraints: { resourceRules: runRules(["CREATE", "UPDATE"]) },
    variables: [
      { name: "onBehalfOf", expression: annotation(ANNOTATIONS.onBehalfOf) },
      { name: "claims", expression: claims("object") },
    ],
    validations: [
      {
        expression: `request.operation != 'CREATE' || variables.claims.all(c, c == '') || request.userInfo.username == '${receiver}'`,
        messageExpression: `'only the GitHub receiver (${receiver}) creates runs on behalf of a GitHub user or from a pull request, not ' + request.userInfo.username`,
        reason: "Forbidden",
      },
      {
        expression: `variables.onBehalfOf == '' || variables.onBehalfOf.startsWith('${GITHUB_USER_PREFIX}')`,
        messageExpression: `'metadata.annotations[${ANNOTATIONS.onBehalfOf}] must be a GitHub user (${GITHUB_USER_PREFIX}<login>), not "' + variables.onBehalfOf + '"'`,
        reason: "Forbidden",
      },
      {
        expression: `request.operation != 'UPDATE' || variables.claims == ${claims("oldObject")}`,
        message: `metadata.annotations[${ANNOTATIONS.onBehalfOf}] and the github-* annotations of a run cannot change`,
        reason: "Forbidden",
      },
    ],
  });
}

/** `namespace`: the operator's, where the GitHub receiver's ServiceAccount is. */
export function admissionPolicies(namespace: string): KubeObject[] {
  const receiver = `system:serviceaccount:${namespace}:${GITHUB_RECEIVER}`;
  return [
    ...runCreatorValidation(),
    ...onBehalfOfValidation(receiver),
    ...privilegedCommandsValidation(receiver),
    ...archiveUploadValidation(),
    ...runMetadataValidation(),
    ...cloudDeletionPolicyValidation(),
    ...moduleApplyValidation(),
    ...secretReferenceValidation(),
  ];
}
