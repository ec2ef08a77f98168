import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ArchiveRef } from "../api/run.js";
import { LABELS } from "../api/group.js";
import { IntegrityError, errorMessage } from "../errors.js";
import type { KubeObject } from "../kube/client.js";
import type { OwnerReference } from "../kube/owner.js";

/**
 * Archives and saved plans travel as chunks, one per Secret, so a
 * configuration of any size goes through. The API server limits an object's data to 1 MiB
 * of raw bytes; a chunk is small enough that even its base64 JSON, metadata included,
 * stays under 1 MiB, which leaves room under etcd's and the request body's limits too.
 * The run pod gets the chunks as one projected volume, chunk <i> in the file <i>.
 */
export const CHUNK_BYTES = 720 * 1024;
export const CHUNK_KEY = "chunk";
export const CHUNK_SECRET_TYPE = "ktf.dev/chunk";

/**
 * The object holding chunk `index`. The index is not zero-padded: readers take the count
 * from the ref and ask for each index, they never sort names.
 */
export function chunkName(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_BYTES));
}

/** Views into `bytes` of at most CHUNK_BYTES each; one empty chunk for no bytes. */
export function splitIntoChunks(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) chunks.push(bytes.subarray(offset, offset + CHUNK_BYTES));
  return chunks.length ? chunks : [Buffer.alloc(0)];
}

export interface ChunkSet {
  namespace: string;
  /** The prefix of the objects' names: <name>-0, <name>-1, ... */
  name: string;
  bytes: Buffer;
  /** The chunks go when their owner goes. */
  owner?: OwnerReference;
  labels?: Record<string, string>;
}

/** The immutable Secrets of a chunk set (configurations and saved plans both hold variable values). */
export function chunkSecrets(set: ChunkSet): KubeObject[] {
  return splitIntoChunks(set.bytes).map((chunk, index) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: chunkName(set.name, index),
      namespace: set.namespace,
      labels: { [LABELS.managedBy]: "ktf", ...set.labels },
      ...(set.owner ? { ownerReferences: [set.owner] } : {}),
    },
    type: CHUNK_SECRET_TYPE,
    data: { [CHUNK_KEY]: chunk.toString("base64") },
    immutable: true,
  }));
}

/** The `ktf.dev/component` label of a configuration archive's chunks. */
export const ARCHIVE_COMPONENT = "archive";

/**
 * The Secrets <name>-<index> that carry a configuration archive into the cluster,
 * labelled as an archive; the caller adds `ktf.dev/run` and the run as owner. Secrets,
 * not ConfigMaps: configurations carry `*.tfvars` and keys, which clusters encrypt at rest
 * only in Secrets (and admission keeps a user's upload to exactly this shape).
 */
export function archiveSecrets(set: ChunkSet): KubeObject[] {
  return chunkSecrets({ ...set, labels: { [LABELS.component]: ARCHIVE_COMPONENT, ...set.labels } });
}

/** The projected volume sources that put chunk <i> at the file <i>. */
export function chunkVolumeSources(kind: "configMap" | "secret", prefix: string, chunks: number): Record<string, unknown>[] {
  return Array.from({ length: chunks }, (_, i) => ({
    [kind]: { name: chunkName(prefix, i), items: [{ key: CHUNK_KEY, path: String(i) }] },
  }));
}

/** The projected volume sources that mount an archive's Secrets in the run pod. */
export function archiveVolumeSources(ref: Pick<ArchiveRef, "name" | "chunks">): Record<string, unknown>[] {
  return chunkVolumeSources("secret", ref.name, ref.chunks);
}

/** Joins the mounted chunk files 0..chunks-1 and checks them against the recorded size and digest. */
export async function assembleChunks(dir: string, ref: Pick<ArchiveRef, "digest" | "size" | "chunks">): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < ref.chunks; i++) parts.push(await readChunk(dir, i, ref.chunks));
  return joinChunks(parts, ref, `the archive in ${dir}`);
}

/** The chunks joined, checked against the recorded size and digest (`what` names them in errors). */
export function joinChunks(parts: readonly Buffer[], ref: Pick<ArchiveRef, "digest" | "size">, what: string): Buffer {
  const mismatch = chunksMismatch(parts, ref, what);
  if (mismatch) throw new IntegrityError(mismatch);
  return Buffer.concat(parts);
}

/** Why the chunks, in order, are not what was uploaded (size, then digest), or undefined. One at a time: an archive can be large. */
export function chunksMismatch(parts: Iterable<Buffer>, ref: Pick<ArchiveRef, "digest" | "size">, what: string): string | undefined {
  const hash = createHash("sha256");
  let size = 0;
  for (const part of parts) {
    hash.update(part);
    size += part.length;
  }
  if (size !== ref.size) return `${what} has ${size} bytes, but ${ref.size} were uploaded`;
  const digest = `sha256:${hash.digest("hex")}`;
  if (digest !== ref.digest) return `${what} has the digest ${digest}, but ${ref.digest} was uploaded: a chunk was changed or mixed up`;
  return undefined;
}

async function readChunk(dir: string, index: number, chunks: number): Promise<Buffer> {
  try {
    return await readFile(join(dir, String(index)));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    const problem = missing ? "is missing" : `cannot be read (${errorMessage(err)})`;
    throw new IntegrityError(`chunk ${index} of ${chunks} ${problem} in ${dir}`, { cause: err });
  }
}
