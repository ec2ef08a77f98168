import { GITHUB_RECEIVER, GROUP, LABELS, RUN, WORKSPACE } from "../api/group.js";
import { ENGINE_COMMANDS } from "../api/commands.js";
import { runCrd, workspaceCrd } from "../api/crd.js";
import { admissionPolicies, UPLOAD_RIGHT } from "./admission.js";
import type { KubeObject } from "../kube/client.js";
import { KTF_VERSION } from "../version.js";
import { BACKUP_CREDENTIALS_DIR } from "../backup/backup-target.js";
import { APP_SECRET_DIR, APP_SECRET_DIR_ENV } from "../github/app-secret.js";

export { DEFAULT_NAMESPACE } from "./defaults.js";
import { DEFAULT_NAMESPACE } from "./defaults.js";
export const DEFAULT_IMAGE = `ghcr.io/ktf-dev/ktf:v${KTF_VERSION}`;
export const OPERATOR_NAME = "ktf-operator";
export const OPERATOR_PORT = 8080;
/** The GitHub webhook receiver's port; GITHUB_RECEIVER names its ServiceAccount (which admission knows), Deployment, Service and roles. */
export const GITHUB_PORT = 8443;
/** The label on the operator's Deployment and pods that says which ktf they run (`ktf version` reads it). */
export const VERSION_LABEL = "app.kubernetes.io/version";

/** The ClusterRoles that a RoleBinding grants per namespace (see the README's "Access control"). */
export const USER_ROLES = { viewer: "ktf-viewer", user: "ktf-user", admin: "ktf-admin" } as const;

export interface InstallOptions {
  namespace: string;
  image: string;
  replicas: number;
  /** How many shards the replicas split the workspaces into (each held by one replica at a time). */
  shards: number;
  /** Watch only these namespaces; all when empty. */
  watchNamespaces: string[];
  logLevel: string;
  /** How long a run's pod may fail to start (a missing Secret, an image) before the run fails. */
  startTimeoutSeconds: number;
  /** Copies of every state version in S3 or GCS. */
  backup?: BackupInstallOptions;
  /** The default CLI configuration Secret of workspaces (by name, in each workspace's namespace). */
  cliConfigSecret?: string;
  /** A Secret of the operator's namespace with the TFC credentials file (key credentials.tfrc). */
  cloudCredentials?: string;
  /** A Secret of the operator's namespace whose keys `<namespace>.<key>` are cloud workspaces' sensitive values (valueFrom.mounted). */
  cloudVariables?: string;
  /** A Secret of the operator's namespace with the GitHub App's credentials (`ktf github deploy`): runs the webhook receiver. */
  githubApp?: string;
}

export interface BackupInstallOptions {
  /** s3://bucket/prefix or gs://bucket/prefix, each with ?region= and ?endpoint= as needed. */
  urls: string[];
  /**
   * A Secret in the operator's namespace with the stores' credentials: for S3 the keys
   * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (as environment), for GCS credentials.json
   * (as a file). Without one the SDKs use the operator's ServiceAccount (IRSA, GKE workload
   * identity).
   */
  secret?: string;
}

/** The operator's flags, environment and volumes for backups. */
function backupSettings(b: BackupInstallOptions | undefined) {
  const args = (b?.urls ?? []).map((url) => `--backup=${url}`);
  if (!b?.secret) return { args, envFrom: [], volumes: [], mounts: [] };
  return {
    args,
    // S3's keys as environment, GCS's key file (if any) as a file the operator looks for.
    envFrom: b.urls.some((u) => u.startsWith("s3://")) ? [{ secretRef: { name: b.secret } }] : [],
    volumes: [{ name: "backup-credentials", secret: { secretName: b.secret } }],
    mounts: [{ name: "backup-credentials", mountPath: BACKUP_CREDENTIALS_DIR, readOnly: true }],
  };
}

export const defaultInstallOptions: InstallOptions = {
  namespace: DEFAULT_NAMESPACE,
  image: DEFAULT_IMAGE,
  replicas: 1,
  shards: 1,
  watchNamespaces: [],
  logLevel: "info",
  startTimeoutSeconds: 120,
};

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete"];

function labels(component: string): Record<string, string> {
  return { "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": component, [LABELS.managedBy]: "ktf" };
}

function clusterRole(name: string, rules: Rule[], extraLabels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels: { ...labels("rbac"), ...extraLabels } },
    rules,
  };
}

/**
 * What the operator may do in the namespaces it watches: exactly the verbs its controllers
 * use (no deletecollection, no pod logs). Server-side apply needs create for
 * what does not exist yet, and patch.
 */
function operatorRules(): Rule[] {
  return [
    // patch: the finalizer that carries out a cloud workspace's deletionPolicy. apply: the
    // privileged verb of the runs it starts for a module workspace with applyMethod auto,
    // whose spec only a holder of apply could set (see admission.ts).
    { apiGroups: [GROUP], resources: [WORKSPACE.plural], verbs: [...READ, "patch", "apply"] },
    // Finished runs past a workspace's runHistory are deleted; module workspaces' runs are created.
    { apiGroups: [GROUP], resources: [RUN.plural], verbs: [...READ, "create", "patch", "delete"] },
    { apiGroups: [GROUP], resources: [`${WORKSPACE.plural}/status`, `${RUN.plural}/status`], verbs: ["get", "update", "patch"] },
    // Owner references that block their owner's deletion (run pods, a workspace's objects).
    { apiGroups: [GROUP], resources: [`${WORKSPACE.plural}/finalizers`, `${RUN.plural}/finalizers`], verbs: ["update"] },
    { apiGroups: [""], resources: ["pods"], verbs: [...READ, "create", "delete"] },
    // Only to grant it, per console run, to the run's creator (RBAC lets no one grant what they do not hold).
    { apiGroups: [""], resources: ["pods/attach"], verbs: ["create", "get"] },
    // State versions and pointers, plans, outputs; pruned versions are deleted.
    { apiGroups: [""], resources: ["secrets"], verbs: [...READ, "create", "update", "patch", "delete"] },
    // A cloud workspace's variable values given by configMapKeyRef, which the operator sends to
    // TFC; and each workspace's <name>-outputs ConfigMap of non-sensitive outputs.
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "patch"] },
    { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["get", "create", "patch"] },
    { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "create"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    // State locks, workspace claims, shard Leases.
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
    { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["get", "create", "patch"] },
    { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ["get", "create", "patch", "delete"] },
  ];
}

/** What the operator needs beyond namespaces: whether a privileged run's creator may run it in its workspace as it is when the run starts. */
function operatorClusterRules(): Rule[] {
  return [{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }];
}

/** Reading ktf's objects, run logs and events: the viewer role. */
function viewerRules(): Rule[] {
  return [
    { apiGroups: [GROUP], resources: [WORKSPACE.plural, RUN.plural, `${WORKSPACE.plural}/status`, `${RUN.plural}/status`], verbs: READ },
    { apiGroups: [""], resources: ["pods", "events"], verbs: READ },
    { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  ];
}

/**
 * Also starting runs of non-privileged commands and cancelling runs: the user role.
 * Configurations are uploaded as Secrets: create only (users read no Secrets, so no state
 * and no sensitive variable), and admission keeps those to archive chunks (UPLOAD_RIGHT).
 */
function userRules(): Rule[] {
  return [
    ...viewerRules(),
    // patch sets spec.cancel; admission keeps the rest of a run as it is.
    { apiGroups: [GROUP], resources: [RUN.plural], verbs: ["create", "patch"] },
    { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    UPLOAD_RIGHT,
    // pods/attach is granted per console run, to its creator (consoleAttachAccess).
  ];
}

/** Also creating, changing and deleting workspaces and runs, and every privileged command: the admin role. */
function adminRules(): Rule[] {
  return [
    ...userRules(),
    { apiGroups: [GROUP], resources: [WORKSPACE.plural, RUN.plural], verbs: [...WRITE] },
    // Whatever a workspace lists as privileged, its command is the verb (src/install/admission.ts).
    { apiGroups: [GROUP], resources: [WORKSPACE.plural], verbs: [...ENGINE_COMMANDS] },
  ];
}

function operatorDeployment(o: InstallOptions): KubeObject {
  const backup = backupSettings(o.backup);
  const versioned = () => ({ ...labels("operator"), [VERSION_LABEL]: KTF_VERSION });
  const args = ["operator", `--namespace=${o.namespace}`, `--start-timeout-seconds=${o.startTimeoutSeconds}`, `--shards=${o.shards}`, ...backup.args];
  if (o.watchNamespaces.length) args.push(`--watch-namespaces=${o.watchNamespaces.join(",")}`);
  if (o.cliConfigSecret) args.push(`--cli-config-secret=${o.cliConfigSecret}`);
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, failureThreshold: 3 });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: OPERATOR_NAME, namespace: o.namespace, labels: versioned() },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": "operator" } },
      template: {
        metadata: { labels: versioned() },
        spec: {
          serviceAccountName: OPERATOR_NAME,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "operator",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              args,
              env: [
                { name: "KTF_RUNNER_IMAGE", value: o.image },
                { name: "KTF_LOG_LEVEL", value: o.logLevel },
                { name: "KTF_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "HOME", value: "/tmp" },
                ...(o.cloudCredentials ? [{ name: "TF_CLI_CONFIG_FILE", value: `${CLOUD_CREDENTIALS_DIR}/${CLOUD_CREDENTIALS_KEY}` }] : []),
                ...(o.cloudVariables ? [{ name: "KTF_CLOUD_VARIABLES_DIR", value: CLOUD_VARIABLES_DIR }] : []),
              ],
              ...(backup.envFrom.length ? { envFrom: backup.envFrom } : {}),
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                ...backup.mounts,
                ...(o.cloudCredentials ? [{ name: "cloud-credentials", mountPath: CLOUD_CREDENTIALS_DIR, readOnly: true }] : []),
                ...(o.cloudVariables ? [{ name: "cloud-variables", mountPath: CLOUD_VARIABLES_DIR, readOnly: true }] : []),
              ],
              ports: [{ name: "http", containerPort: OPERATOR_PORT }],
              livenessProbe: probe("/healthz"),
              readinessProbe: probe("/readyz"),
              resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "512Mi" } },
              securityContext: HARDENED_CONTAINER,
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: {} },
            ...backup.volumes,
            // Read on each use, so that a changed Secret (the kubelet updates the file) is seen without a restart.
            ...(o.cloudCredentials ? [{ name: "cloud-credentials", secret: { secretName: o.cloudCredentials, items: [{ key: CLOUD_CREDENTIALS_KEY, path: CLOUD_CREDENTIALS_KEY }] } }] : []),
            // Only the operator mounts it: run pods never see these values.
            ...(o.cloudVariables ? [{ name: "cloud-variables", secret: { secretName: o.cloudVariables, optional: true } }] : []),
          ],
        },
      },
    },
  };
}

const OPERATOR_CLUSTER_ROLE = `${OPERATOR_NAME}-cluster`;
/** The operator's and the receiver's containers: no privilege, nothing written outside their volumes. */
const HARDENED_CONTAINER = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
const CLOUD_CREDENTIALS_DIR = "/var/run/secrets/ktf/cloud";
export const CLOUD_CREDENTIALS_KEY = "credentials.tfrc";
const CLOUD_VARIABLES_DIR = "/var/run/secrets/ktf/cloud-variables";

function binding(kind: "RoleBinding" | "ClusterRoleBinding", role: string, o: InstallOptions, namespace?: string, account = OPERATOR_NAME, roleKind: "ClusterRole" | "Role" = "ClusterRole"): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind,
    metadata: { name: role, ...(namespace ? { namespace } : {}), labels: labels("rbac") },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: role },
    subjects: [{ kind: "ServiceAccount", name: account, namespace: o.namespace }],
  };
}

/**
 * The operator's rights: cluster-wide when it watches every namespace; with
 * --watch-namespaces, only in those (and in its own, for leader election and events).
 */
function operatorBindings(o: InstallOptions): KubeObject[] {
  const cluster = binding("ClusterRoleBinding", OPERATOR_CLUSTER_ROLE, o);
  if (!o.watchNamespaces.length) return [binding("ClusterRoleBinding", OPERATOR_NAME, o), cluster];
  const namespaces = [...new Set([o.namespace, ...o.watchNamespaces])];
  return [...namespaces.map((ns) => binding("RoleBinding", OPERATOR_NAME, o, ns)), cluster];
}

const OPERATOR_MEMBERS_ROLE = `${OPERATOR_NAME}-members`;

/** The replicas find each other by their member Leases in the operator's namespace, and remove those of replicas long gone. */
function operatorMembersRole(o: InstallOptions): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: OPERATOR_MEMBERS_ROLE, namespace: o.namespace, labels: labels("rbac") },
    rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["list", "delete"] }],
  };
}

const GITHUB_CLUSTER_ROLE = `${GITHUB_RECEIVER}-cluster`;
const GITHUB_QUEUE_ROLE = `${GITHUB_RECEIVER}-queue`;

/**
 * What the webhook receiver may do where workspaces are: find the workspaces a pull request
 * touches, start and cancel their runs (uploading the commit as archive chunks: create only,
 * kept to chunks by admission), read the plan's pod log for the check run, record events.
 * No Secret is read, and none of the privileged verbs (apply, destroy...) on workspaces: an
 * apply from a comment is a run on behalf of the GitHub user, whose rights the operator's
 * SubjectAccessReview checks before it starts (see admission.ts).
 */
function githubRules(): Rule[] {
  return [
    { apiGroups: [GROUP], resources: [WORKSPACE.plural], verbs: [...READ] },
    { apiGroups: [GROUP], resources: [RUN.plural], verbs: [...READ, "create", "patch"] },
    UPLOAD_RIGHT,
    { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
    { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    { apiGroups: [""], resources: ["events"], verbs: ["create"] },
  ];
}

/** Whether a commenter may do what they ask (SubjectAccessReviews): cluster-wide, whatever it watches. */
function githubClusterRules(): Rule[] {
  return [{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }];
}

/** Its durable delivery queue: ConfigMaps of its own namespace only. */
function githubQueueRole(o: InstallOptions): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: GITHUB_QUEUE_ROLE, namespace: o.namespace, labels: labels("rbac") },
    rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: [...READ, "create", "delete"] }],
  };
}

/**
 * The receiver's rights, bound as the operator's are: cluster-wide when it watches every
 * namespace, else in each watched one (not in its own, where it keeps only its queue).
 */
function githubBindings(o: InstallOptions): KubeObject[] {
  const own = [binding("ClusterRoleBinding", GITHUB_CLUSTER_ROLE, o, undefined, GITHUB_RECEIVER), binding("RoleBinding", GITHUB_QUEUE_ROLE, o, o.namespace, GITHUB_RECEIVER, "Role")];
  if (!o.watchNamespaces.length) return [binding("ClusterRoleBinding", GITHUB_RECEIVER, o, undefined, GITHUB_RECEIVER), ...own];
  return [...[...new Set(o.watchNamespaces)].map((ns) => binding("RoleBinding", GITHUB_RECEIVER, o, ns, GITHUB_RECEIVER)), ...own];
}

function githubDeployment(o: InstallOptions, secret: string): KubeObject {
  const probe = { httpGet: { path: "/healthz", port: "webhook" }, periodSeconds: 10, failureThreshold: 3 };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: GITHUB_RECEIVER, namespace: o.namespace, labels: { ...labels("github"), [VERSION_LABEL]: KTF_VERSION } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": "github" } },
      template: {
        metadata: { labels: { ...labels("github"), [VERSION_LABEL]: KTF_VERSION } },
        spec: {
          serviceAccountName: GITHUB_RECEIVER,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "github",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              args: ["github", "serve", `--namespace=${o.namespace}`],
              env: [
                { name: APP_SECRET_DIR_ENV, value: APP_SECRET_DIR },
                { name: "KTF_LOG_LEVEL", value: o.logLevel },
                { name: "KTF_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "HOME", value: "/tmp" },
                // The namespaces its rights are bound in, for a serve that lists per namespace then.
                ...(o.watchNamespaces.length ? [{ name: "KTF_WATCH_NAMESPACES", value: o.watchNamespaces.join(",") }] : []),
              ],
              volumeMounts: [
                // Commit tarballs are unpacked here.
                { name: "tmp", mountPath: "/tmp" },
                { name: "github-app", mountPath: APP_SECRET_DIR, readOnly: true },
              ],
              ports: [{ name: "webhook", containerPort: GITHUB_PORT }],
              livenessProbe: probe,
              readinessProbe: probe,
              // A tarball is held in memory while it is checked (up to MAX_TARBALL_BYTES compressed).
              resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
              securityContext: HARDENED_CONTAINER,
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: {} },
            // Not optional: without the App's credentials the pod waits, and says why in its events.
            { name: "github-app", secret: { secretName: secret } },
          ],
        },
      },
    },
  };
}

/**
 * The GitHub webhook receiver. GitHub posts to a public HTTPS URL: put an Ingress (or a
 * LoadBalancer Service) with TLS in front of this Service and give that URL to
 * `ktf github deploy --webhook-url`; the receiver itself speaks plain HTTP on its port.
 */
function githubReceiver(o: InstallOptions, secret: string): KubeObject[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: GITHUB_RECEIVER, namespace: o.namespace, labels: labels("github") } },
    clusterRole(GITHUB_RECEIVER, githubRules()),
    clusterRole(GITHUB_CLUSTER_ROLE, githubClusterRules()),
    githubQueueRole(o),
    ...githubBindings(o),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: GITHUB_RECEIVER, namespace: o.namespace, labels: labels("github") },
      spec: {
        selector: { "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": "github" },
        ports: [{ name: "webhook", port: 443, targetPort: "webhook" }],
      },
    },
    githubDeployment(o, secret),
  ];
}

/** Everything `ktf install` applies, in the order it applies them. */
export function installManifests(options: Partial<InstallOptions> = {}): KubeObject[] {
  const o = { ...defaultInstallOptions, ...options };
  const crds = [workspaceCrd(), runCrd()] as unknown as KubeObject[];
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      // The operator passes the restricted Pod Security Standard; the namespace enforces it.
      metadata: { name: o.namespace, labels: { ...labels("operator"), "pod-security.kubernetes.io/enforce": "restricted" } },
    },
    ...crds,
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: OPERATOR_NAME, namespace: o.namespace, labels: labels("operator") } },
    clusterRole(OPERATOR_NAME, operatorRules()),
    clusterRole(OPERATOR_CLUSTER_ROLE, operatorClusterRules()),
    ...operatorBindings(o),
    operatorMembersRole(o),
    binding("RoleBinding", OPERATOR_MEMBERS_ROLE, o, o.namespace, OPERATOR_NAME, "Role"),
    clusterRole(USER_ROLES.viewer, viewerRules()),
    clusterRole(USER_ROLES.user, userRules()),
    clusterRole(USER_ROLES.admin, adminRules()),
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: OPERATOR_NAME, namespace: o.namespace, labels: labels("operator") },
      spec: {
        selector: { "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": "operator" },
        ports: [{ name: "http", port: OPERATOR_PORT, targetPort: "http" }],
      },
    },
    operatorDeployment(o),
    ...(o.githubApp ? githubReceiver(o, o.githubApp) : []),
    ...admissionPolicies(o.namespace),
  ];
}
