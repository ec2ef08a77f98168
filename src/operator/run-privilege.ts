import { isPrivileged } from "../api/commands.js";
import { ANNOTATIONS, GROUP, WORKSPACE } from "../api/group.js";
import type { Run } from "../api/run.js";
import type { Workspace } from "../api/workspace.js";
import type { KubeClient, KubeObject } from "../kube/client.js";

/**
 * Admission checks a privileged run against its workspace as it was then, and admits a
 * run for a workspace that did not exist yet; so the creator's right to run it is checked
 * again (a SubjectAccessReview), against the workspace as it is now, before the run starts.
 * Returns why the run may not start, or undefined.
 */
export async function privilegeDenial(client: KubeClient, run: Run, ws: Workspace, creator: { username: string; groups: string[] } | undefined): Promise<string | undefined> {
  const { command, args } = run.spec;
  if (!isPrivileged(ws.spec.privilegedCommands, command, args)) return undefined;
  const what = `${command} in workspace ${run.spec.workspace}`;
  if (!creator) return `the run records no creator (${ANNOTATIONS.createdBy}), and ${what} is privileged`;
  const review = await client.review<KubeObject & { status?: { allowed?: boolean } }>({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    metadata: {},
    spec: {
      user: creator.username,
      groups: creator.groups,
      resourceAttributes: { group: GROUP, resource: WORKSPACE.plural, namespace: run.metadata.namespace, name: run.spec.workspace, verb: command },
    },
  });
  if (review.status?.allowed) return undefined;
  return `user ${creator.username} may not run ${what}: it needs the RBAC verb "${command}" on ${WORKSPACE.plural}.${GROUP} "${run.spec.workspace}" in namespace ${run.metadata.namespace}`;
}
