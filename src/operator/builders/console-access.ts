import type { Run } from "../../api/run.js";
import { LABELS } from "../../api/group.js";
import { labelValue, names } from "../../api/names.js";
import type { KubeObject } from "../../kube/client.js";
import { ownerReference } from "../../kube/owner.js";

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The RBAC subject of a user as the API server names them (a ServiceAccount, or a user). */
function subjectOf(username: string): Record<string, string> {
  const sa = SERVICE_ACCOUNT_USER.exec(username);
  if (sa) return { kind: "ServiceAccount", namespace: sa[1] ?? "", name: sa[2] ?? "" };
  return { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: username };
}

/**
 * The right to attach to one console run's pod, for the user who created the run and
 * nobody else: ktf's roles grant no pods/attach, since a namespace-wide grant would let a
 * user type into anyone's console. Owned by the run, so it goes with it.
 */
export function consoleAttachAccess(run: Run, username: string): KubeObject[] {
  const runName = run.metadata.name ?? "";
  const name = names.consoleAccess(runName);
  const metadata = {
    name,
    namespace: run.metadata.namespace,
    labels: { [LABELS.run]: labelValue(runName), [LABELS.managedBy]: "ktf" },
    ownerReferences: [ownerReference(run, { controller: true })],
  };
  return [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata,
      rules: [{ apiGroups: [""], resources: ["pods/attach"], verbs: ["create", "get"], resourceNames: [names.runPod(runName)] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [subjectOf(username)],
    },
  ];
}
