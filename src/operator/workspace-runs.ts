import { runSchema, type Run } from "../api/run.js";
import type { Workspace } from "../api/workspace.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";

/**
 * The runs of a workspace, read live. Filtered on spec.workspace rather than a label:
 * a run created with kubectl has no label until the operator adopts it.
 */
export async function runsOfWorkspace(client: KubeClient, ws: Workspace): Promise<Run[]> {
  const list = await client.list(RESOURCES.Run, ws.metadata.namespace);
  return list.items.map((r) => runSchema.safeParse(r).data).filter((r): r is Run => r !== undefined && r.spec.workspace === ws.metadata.name);
}
