import { GROUP, RUN, VERSION, WORKSPACE } from "../api/group.js";

/** Where a kind lives in the API: enough to build its REST path. */
export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

function core(kind: string, plural: string, namespaced = true): ResourceType {
  return { group: "", version: "v1", kind, plural, namespaced };
}
function grouped(group: string, version: string, kind: string, plural: string, namespaced = true): ResourceType {
  return { group, version, kind, plural, namespaced };
}

/** The kinds ktf reads or writes. */
export const RESOURCES = {
  Namespace: core("Namespace", "namespaces", false),
  Pod: core("Pod", "pods"),
  Secret: core("Secret", "secrets"),
  ConfigMap: core("ConfigMap", "configmaps"),
  ServiceAccount: core("ServiceAccount", "serviceaccounts"),
  Service: core("Service", "services"),
  Event: core("Event", "events"),
  PersistentVolumeClaim: core("PersistentVolumeClaim", "persistentvolumeclaims"),
  Node: core("Node", "nodes", false),
  Lease: grouped("coordination.k8s.io", "v1", "Lease", "leases"),
  Deployment: grouped("apps", "v1", "Deployment", "deployments"),
  Role: grouped("rbac.authorization.k8s.io", "v1", "Role", "roles"),
  RoleBinding: grouped("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings"),
  ClusterRole: grouped("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false),
  ClusterRoleBinding: grouped("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false),
  CustomResourceDefinition: grouped("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false),
  ValidatingAdmissionPolicy: grouped("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false),
  ValidatingAdmissionPolicyBinding: grouped("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false),
  MutatingAdmissionPolicy: grouped("admissionregistration.k8s.io", "v1beta1", "MutatingAdmissionPolicy", "mutatingadmissionpolicies", false),
  MutatingAdmissionPolicyBinding: grouped("admissionregistration.k8s.io", "v1beta1", "MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings", false),
  SelfSubjectAccessReview: grouped("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false),
  SubjectAccessReview: grouped("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false),
  SelfSubjectReview: grouped("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false),
  Workspace: grouped(GROUP, VERSION, WORKSPACE.kind, WORKSPACE.plural),
  Run: grouped(GROUP, VERSION, RUN.kind, RUN.plural),
} as const satisfies Record<string, ResourceType>;

export function apiVersionOf(r: ResourceType): string {
  return r.group === "" ? r.version : `${r.group}/${r.version}`;
}

/** The resource type of an object by its apiVersion and kind. */
export function resourceFor(apiVersion: string, kind: string): ResourceType {
  const found = Object.values(RESOURCES).find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
  if (!found) throw new Error(`ktf does not know the kind ${apiVersion}/${kind}`);
  return found;
}
