import { GROUP, RUN, WORKSPACE } from "../api/group.js";
import { isPrivileged, type EngineCommand } from "../api/commands.js";
import type { Workspace } from "../api/workspace.js";
import { KtfError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";

/**
 * Fails before anything is created when the workspace lists the command as privileged and
 * the user lacks its verb. The API server enforces the same rule at admission; asking
 * first keeps `ktf apply` from planning something the user may not apply.
 */
export async function checkPrivilege(client: KubeClient, ws: Workspace, command: EngineCommand, args: readonly string[]): Promise<void> {
  if (!isPrivileged(ws.spec.privilegedCommands, command, args)) return;
  const namespace = ws.metadata.namespace ?? "";
  const name = ws.metadata.name ?? "";
  // Creating runs at all comes first; its denial reads as the API server's would.
  if (!(await allowed(client, { group: GROUP, resource: RUN.plural, namespace, verb: "create" }))) {
    throw new KtfError(`forbidden: you cannot create resource "${RUN.plural}" in API group "${GROUP}" in the namespace "${namespace}"`);
  }
  if (!(await allowed(client, { group: GROUP, resource: WORKSPACE.plural, namespace, name, verb: command }))) {
    throw new KtfError(
      `forbidden: you may not run ${command} in workspace ${name}: it needs the RBAC verb "${command}" on ${WORKSPACE.plural}.${GROUP} "${name}" in namespace ${namespace} (ask an admin for the ktf-admin role or a Role with that verb)`,
    );
  }
}

async function allowed(client: KubeClient, resourceAttributes: Record<string, string>): Promise<boolean> {
  const review = await client.review<KubeObject & { status?: { allowed?: boolean } }>({
    apiVersion: "authorization.k8s.io/v1",
    kind: "SelfSubjectAccessReview",
    metadata: {},
    spec: { resourceAttributes },
  });
  return review.status?.allowed === true;
}
