import { runSchema, type Run } from "../api/run.js";
import type { Workspace } from "../api/workspace.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";

/** Every Run of a namespace, as the controllers see them: from the informers' cache, or live. */
export type RunLister = (namespace: string) => Promise<readonly unknown[]>;

/** Read live: one LIST a call (tests, and tools without informers). */
export function liveRuns(client: KubeClient): RunLister {
  return async (namespace) => (await client.list(RESOURCES.Run, namespace)).items;
}

/**
 * Read from the informers' caches: no API call. A run created a moment ago may not be there
 * yet; that is safe, because the queue only orders runs, and what makes one state-changing run
 * at a time is the workspace's claim (a Lease), taken through the API.
 */
export function cachedRuns(caches: readonly { list(): KubeObject[] }[]): RunLister {
  return (namespace) => Promise.resolve(caches.flatMap((c) => c.list()).filter((r) => r.metadata.namespace === namespace));
}

/**
 * The runs of a workspace. Filtered on spec.workspace rather than a label: a run created
 * with kubectl has no label until the operator adopts it. Filtered before they are parsed:
 * a namespace may hold thousands of runs, of many workspaces.
 */
export async function runsOfWorkspace(runs: RunLister, ws: Workspace): Promise<Run[]> {
  const all = await runs(ws.metadata.namespace ?? "");
  return all
    .filter((r) => (r as { spec?: { workspace?: unknown } } | undefined)?.spec?.workspace === ws.metadata.name)
    .map((r) => runSchema.safeParse(r).data)
    .filter((r): r is Run => r !== undefined);
}
