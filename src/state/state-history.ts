import { LABELS } from "../api/group.js";
import { labelValue } from "../api/names.js";
import { chunkName } from "../archive/chunks.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { STATE_COMPONENT, STATE_LABELS, byNewest, versionFromAnnotations, type StateVersion } from "./state-versions.js";

/**
 * A workspace's state versions, newest first, read as metadata only (a version's chunks
 * may hold a state of hundreds of MB).
 */
export async function listStateVersions(client: KubeClient, namespace: string, workspace: string, component: string = STATE_COMPONENT.version): Promise<StateVersion[]> {
  const selector = `${STATE_LABELS.stateOf}=${labelValue(workspace)},${LABELS.component}=${component}`;
  const list = await client.list<KubeObject>(RESOURCES.Secret, namespace, { labelSelector: selector, metadataOnly: true });
  const byName = new Map<string, StateVersion>();
  for (const item of list.items) {
    const version = versionFromAnnotations(item.metadata.annotations);
    if (version) byName.set(version.name, version);
  }
  return [...byName.values()].sort(byNewest);
}

/** Deletes a stored state's chunks; what is already gone is no error. */
export async function deleteStoredState(client: KubeClient, namespace: string, version: Pick<StateVersion, "name" | "chunks">): Promise<void> {
  for (let i = 0; i < version.chunks; i++) await client.delete(RESOURCES.Secret, namespace, chunkName(version.name, i));
}

/** The stored state a run left after a failed save (see StateStore.keepErrored), if it is there. */
export async function erroredStateOf(client: KubeClient, namespace: string, workspace: string, run: string): Promise<StateVersion | undefined> {
  return (await listStateVersions(client, namespace, workspace, STATE_COMPONENT.errored)).find((v) => v.run === run);
}
