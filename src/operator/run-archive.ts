import { REASON } from "../api/conditions.js";
import { ANNOTATIONS, LABELS } from "../api/group.js";
import { archiveDigestLabel } from "../api/names.js";
import { runSchema, type Run } from "../api/run.js";
import { CHUNK_KEY, chunkName, chunksMismatch } from "../archive/chunks.js";
import { isApiError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { isOwnedBy, ownerReference } from "../kube/owner.js";
import { RESOURCES } from "../kube/resources.js";

type ChunkSecret = KubeObject & { data?: Record<string, string> };

export type ArchiveCheck =
  | { kind: "ready" }
  | { kind: "uploading"; progress: string }
  /** It never will be ready: the run fails with this reason. */
  | { kind: "unusable"; reason: string; message: string };

/**
 * Whether the configuration a run executes on is all there. The run's own archive, the
 * first time it is whole, is checked against its digest, its chunks are made the run's too
 * (an archive several runs share goes only with the last of them: the garbage collector
 * deletes an object once all its owners are gone), and the run is labelled with the digest,
 * which is what lets later runs reuse it (see reusableArchive). A reused archive found
 * incomplete fails the run at once. The run's metadata is updated in place to what was written.
 */
export async function checkArchive(client: KubeClient, run: Run, planRun: Run | undefined): Promise<ArchiveCheck> {
  // An apply of a saved plan executes on the plan's archive, which the plan run holds.
  const archive = planRun?.spec.archive ?? run.spec.archive;
  if (!archive) return { kind: "ready" };
  const ns = run.metadata.namespace;
  const found = await Promise.all(Array.from({ length: archive.chunks }, (_, i) => client.get<ChunkSecret>(RESOURCES.Secret, ns, chunkName(archive.name, i))));
  const chunks = found.filter((c): c is ChunkSecret => c !== undefined);
  const own = archive === run.spec.archive;
  if (chunks.length < archive.chunks) {
    const progress = `${chunks.length} of ${archive.chunks} chunks present`;
    const from = run.metadata.annotations?.[ANNOTATIONS.archiveFrom];
    if (!own || !from) return { kind: "uploading", progress };
    // A reused archive was whole when it was chosen, and nobody uploads it again: what is missing
    // was deleted. No run offers it any more, so that running again uploads it anew.
    for (const name of [run.metadata.name ?? "", from]) await forgetArchive(client, ns, name, archive.name);
    return { kind: "unusable", reason: REASON.ArchiveIncomplete, message: `the configuration it reuses from run ${from} was deleted (${progress}): run again to upload it anew` };
  }
  const label = archiveDigestLabel(archive.digest);
  if (!own || run.metadata.labels?.[LABELS.archiveDigest] === label) return { kind: "ready" };
  const mismatch = chunksMismatch(decoded(chunks), archive, `the configuration archive ${archive.name}`);
  if (mismatch) return { kind: "unusable", reason: REASON.ArchiveInvalid, message: mismatch };
  for (const chunk of chunks) await shareChunk(client, chunk, run);
  const patched = await client.patch(RESOURCES.Run, ns, run.metadata.name ?? "", { metadata: { labels: { [LABELS.archiveDigest]: label } } });
  run.metadata.labels = patched.metadata.labels;
  run.metadata.resourceVersion = patched.metadata.resourceVersion;
  return { kind: "ready" };
}

/** Takes the digest label off run `name` if it names the archive `archive` (a run of another archive keeps its own). */
async function forgetArchive(client: KubeClient, ns: string | undefined, name: string, archive: string): Promise<void> {
  const raw = await client.get(RESOURCES.Run, ns, name);
  const run = raw && runSchema.safeParse(raw).data;
  if (!run?.metadata.labels?.[LABELS.archiveDigest] || run.spec.archive?.name !== archive) return;
  await client.patch(RESOURCES.Run, ns, name, { metadata: { labels: { [LABELS.archiveDigest]: null } } }).catch((err: unknown) => {
    if (!isApiError(err, 404)) throw err;
  });
}

function* decoded(chunks: readonly ChunkSecret[]): Generator<Buffer> {
  for (const chunk of chunks) yield Buffer.from(chunk.data?.[CHUNK_KEY] ?? "", "base64");
}

/** Adds the run to the chunk's owners (on a conflict the reconcile is retried, and reads them again). */
async function shareChunk(client: KubeClient, chunk: ChunkSecret, run: Run): Promise<void> {
  if (isOwnedBy(chunk, run)) return;
  const ownerReferences = [...(chunk.metadata.ownerReferences ?? []), ownerReference(run)];
  await client.patch(RESOURCES.Secret, chunk.metadata.namespace, chunk.metadata.name ?? "", { metadata: { ownerReferences, resourceVersion: chunk.metadata.resourceVersion } });
}
