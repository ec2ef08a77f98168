import { GITHUB_USER_PREFIX, GROUP, RUN, WORKSPACE } from "../api/group.js";
import type { KubeClient, KubeObject } from "../kube/client.js";

/**
 * GitHub users are Kubernetes users named `github:<login>` (RoleBindings give them rights,
 * as to anyone else). The receiver asks the API server what such a user may do
 * (SubjectAccessReview) before acting for them, and says on the pull request which
 * permission is missing; the operator asks again before a privileged run starts.
 */
export function githubUser(login: string): string {
  return `${GITHUB_USER_PREFIX}${login}`;
}

export interface Permission {
  verb: string;
  resource: string;
  namespace: string;
  name?: string;
}

/** Planning a workspace from a PR is creating a run in its namespace. */
export const planPermission = (namespace: string): Permission => ({ verb: "create", resource: RUN.plural, namespace });
/** Applying is the workspace's `apply` verb, as with `ktf apply`. */
export const applyPermission = (namespace: string, workspace: string): Permission => ({ verb: "apply", resource: WORKSPACE.plural, namespace, name: workspace });

/** Undefined when the GitHub user holds the permission; else what is missing, in words. */
export async function missingPermission(kube: KubeClient, login: string, p: Permission): Promise<string | undefined> {
  const user = githubUser(login);
  const review = await kube.review<KubeObject & { status?: { allowed?: boolean } }>({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    metadata: {},
    spec: { user, groups: [], resourceAttributes: { group: GROUP, resource: p.resource, verb: p.verb, namespace: p.namespace, ...(p.name ? { name: p.name } : {}) } },
  });
  if (review.status?.allowed) return undefined;
  const what = p.name ? `${p.resource}.${GROUP} "${p.name}"` : `${p.resource}.${GROUP}`;
  return `${user} may not ${p.verb === "create" ? "plan" : p.verb} here: it needs the RBAC verb "${p.verb}" on ${what} in namespace ${p.namespace}`;
}
