import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { IntegrityError } from "../errors.js";
import type { KubeObject } from "../kube/client.js";

/**
 * Archives and saved plans travel as chunks, one per ConfigMap (binaryData) or Secret,
 * each well under Kubernetes' 1 MiB object limit, so a configuration of any size goes
 * through. The run pod gets them as one projected volume, a file per chunk.
 */
export const CHUNK_BYTES = 900 * 1024;
export const CHUNK_KEY = "chunk";

export function chunkName(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_BYTES));
}

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
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
  labels?: Record<string, string>;
}

/** The ConfigMaps (configurations) or Secrets (saved plans, which hold variable values). */
export function chunkObjects(kind: "ConfigMap" | "Secret", set: ChunkSet): KubeObject[] {
  return splitIntoChunks(set.bytes).map((chunk, index) => {
    const metadata = {
      name: chunkName(set.name, index),
      namespace: set.namespace,
      labels: { "app.kubernetes.io/managed-by": "ktf", ...set.labels },
      ...(set.owner ? { ownerReferences: [set.owner] } : {}),
    };
    const data = { [CHUNK_KEY]: chunk.toString("base64") };
    return kind === "ConfigMap"
      ? { apiVersion: "v1", kind, metadata, binaryData: data, immutable: true }
      : { apiVersion: "v1", kind, metadata, type: "ktf.dev/chunk", data, immutable: true };
  });
}

/** The projected volume sources that put chunk <i> at the file <i>. */
export function chunkVolumeSources(kind: "configMap" | "secret", prefix: string, chunks: number): Record<string, unknown>[] {
  return Array.from({ length: chunks }, (_, i) => ({
    [kind]: { name: chunkName(prefix, i), items: [{ key: CHUNK_KEY, path: String(i) }] },
  }));
}

/** Joins the mounted chunk files and checks them against the recorded size and digest. */
export async function assembleChunks(dir: string, ref: { digest: string; size: number; chunks: number }): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < ref.chunks; i++) {
    try {
      parts.push(await readFile(join(dir, String(i))));
    } catch {
      throw new IntegrityError(`chunk ${i} of ${ref.chunks} is missing from ${dir}`);
    }
  }
  const bytes = Buffer.concat(parts);
  if (bytes.length !== ref.size) throw new IntegrityError(`the archive has ${bytes.length} bytes, ${ref.size} were uploaded`);
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  if (digest !== ref.digest) throw new IntegrityError(`the archive's digest is ${digest}, ${ref.digest} was uploaded`);
  return bytes;
}
