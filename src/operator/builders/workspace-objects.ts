import { LABELS } from "../../api/group.js";
import type { Workspace } from "../../api/workspace.js";
import type { KubeObject } from "../../kube/client.js";
import { labelValue, names } from "../../api/names.js";
import { stateLeaseName, stateSecretName } from "../../state/state-store.js";
import { ownerReference } from "../../kube/owner.js";

function meta(ws: Workspace, name: string) {
  return {
    name,
    namespace: ws.metadata.namespace,
    labels: { [LABELS.workspace]: labelValue(ws.metadata.name ?? ""), [LABELS.managedBy]: "ktf" },
    ownerReferences: [ownerReference(ws, { controller: true })],
  };
}

/** The ServiceAccount a workspace's runs use unless the workspace names its own. */
export function runnerServiceAccount(ws: Workspace): KubeObject {
  const annotations = ws.spec.identity.serviceAccountAnnotations;
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { ...meta(ws, names.runnerServiceAccount(ws.metadata.name ?? "")), ...(annotations ? { annotations } : {}) },
  };
}

/**
 * What a run may do in the cluster, through its state sidecar: read and update its own
 * workspace's state pointer and lock Lease, and create Secrets (state versions, its saved
 * plan). Creating cannot be limited by name in RBAC; everything else is, nothing may be
 * listed, and nothing deleted: old versions go by the operator's retention alone.
 */
export function runnerRole(ws: Workspace): KubeObject {
  const wsName = ws.metadata.name ?? "";
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(ws, names.runnerRole(wsName)),
    rules: [
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "update"], resourceNames: [stateSecretName(wsName)] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "update"], resourceNames: [stateLeaseName(wsName)] },
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    ],
  };
}

export function runnerRoleBinding(ws: Workspace, serviceAccountName: string): KubeObject {
  const name = names.runnerRole(ws.metadata.name ?? "");
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(ws, name),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name: serviceAccountName, namespace: ws.metadata.namespace }],
  };
}

/** The persistent provider and module cache, when the workspace asks for one. */
export function cacheClaim(ws: Workspace): KubeObject | undefined {
  const cache = ws.spec.cache;
  if (!cache) return undefined;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: meta(ws, names.cacheClaim(ws.metadata.name ?? "")),
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: cache.size } },
      ...(cache.storageClassName ? { storageClassName: cache.storageClassName } : {}),
    },
  };
}

/** What a Secret or ConfigMap holds at most (1 MiB), less room for its metadata and base64. */
const OUTPUTS_SECRET_BYTES = 700 * 1024;

/**
 * Every output of the workspace's state, sensitive ones too, as JSON values by name, as
 * far as they fit in one Secret: the largest that do not are left out (and named).
 */
export function outputsSecret(ws: Workspace, outputs: Record<string, unknown>): { secret: KubeObject; omitted: string[] } {
  const { data, omitted } = fitted(Object.entries(outputs).map(([k, v]) => [k, Buffer.from(JSON.stringify(v))]));
  return {
    // data, not stringData: re-applying the same outputs then changes nothing.
    secret: { apiVersion: "v1", kind: "Secret", metadata: meta(ws, names.outputsSecret(ws.metadata.name ?? "")), type: "Opaque", data: mapValues(data, (b) => b.toString("base64")) },
    omitted,
  };
}

/**
 * The non-sensitive outputs in a ConfigMap of the same name, for pods and tools that read
 * configuration (envFrom, volumes): a string as it is (as `output -raw` prints it), any
 * other value as JSON.
 */
export function outputsConfigMap(ws: Workspace, outputs: Record<string, { value: unknown; sensitive?: boolean }>): { configMap: KubeObject; omitted: string[] } {
  const visible = Object.entries(outputs).filter(([, o]) => !o.sensitive);
  const { data, omitted } = fitted(visible.map(([k, o]) => [k, Buffer.from(typeof o.value === "string" ? o.value : JSON.stringify(o.value))]));
  return {
    configMap: { apiVersion: "v1", kind: "ConfigMap", metadata: meta(ws, names.outputsSecret(ws.metadata.name ?? "")), data: mapValues(data, (b) => b.toString("utf8")) },
    omitted,
  };
}

/** As many values as fit in one object, the smallest first; the names of those left out. */
function fitted(values: [string, Buffer][]): { data: Record<string, Buffer>; omitted: string[] } {
  let total = 0;
  const data: Record<string, Buffer> = {};
  const omitted: string[] = [];
  for (const [name, bytes] of [...values].sort(([, a], [, b]) => a.length - b.length)) {
    total += bytes.length;
    if (total > OUTPUTS_SECRET_BYTES) omitted.push(name);
    else data[name] = bytes;
  }
  return { data, omitted: omitted.sort() };
}

function mapValues<A, B>(record: Record<string, A>, f: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}
