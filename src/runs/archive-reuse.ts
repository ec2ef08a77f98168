import { LABELS } from "../api/group.js";
import { archiveDigestLabel, labelValue } from "../api/names.js";
import { runSchema, type ArchiveRef, type Run } from "../api/run.js";
import { chunkCount } from "../archive/chunks.js";
import type { PackedConfiguration } from "../archive/pack.js";
import { isApiError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";

export interface ReusableArchive {
  /** The run whose archive it is (see ANNOTATIONS.archiveFrom). */
  run: string;
  archive: ArchiveRef;
}

/**
 * The archive of the newest run of `workspace` that holds exactly this configuration and
 * is not being deleted. Only runs the operator labelled count: it does so once it found
 * their archive whole and matching its digest, so an upload still under way is never
 * reused. Of the same workspace only, so that no workspace's runs depend on another's.
 */
export async function reusableArchive(client: KubeClient, namespace: string, workspace: string, c: PackedConfiguration): Promise<ReusableArchive | undefined> {
  const labelSelector = `${LABELS.archiveDigest}=${archiveDigestLabel(c.digest)},${LABELS.workspace}=${labelValue(workspace)}`;
  let items: unknown[];
  try {
    ({ items } = await client.list(RESOURCES.Run, namespace, { labelSelector }));
  } catch (err) {
    // Whoever may create runs but not list them uploads as before.
    if (isApiError(err, 403)) return undefined;
    throw err;
  }
  const same = items
    .map((item) => runSchema.safeParse(item).data)
    .filter((r): r is Run & { spec: { archive: ArchiveRef } } => r !== undefined && !r.metadata.deletionTimestamp && r.spec.workspace === workspace && holds(r.spec.archive, c));
  const newest = same.sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""))[0];
  return newest && { run: newest.metadata.name ?? "", archive: { ...newest.spec.archive, path: c.path } };
}

/** The label holds part of the digest: the spec says whether it is the same configuration. */
function holds(archive: ArchiveRef | undefined, c: PackedConfiguration): boolean {
  return archive !== undefined && archive.digest === c.digest && archive.size === c.size && archive.chunks === chunkCount(c.size);
}
