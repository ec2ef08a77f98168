import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { LABELS } from "../api/group.js";
import { chunkSecrets } from "../archive/chunks.js";
import type { KubeObject } from "../kube/client.js";
import type { OwnerReference } from "../kube/owner.js";
import { fit, labelValue } from "../api/names.js";
import type { StateHeader } from "./state-file.js";

/**
 * Every state write is a version: immutable Secrets `<version>-<i>` holding the gzipped
 * state in chunks (so a state of any size fits), labelled with their workspace and
 * annotated with where the write came from. The pointer Secret names the current one.
 */
export const STATE_LABELS = {
  /** The workspace a state version (or a state kept after a failed save) belongs to. */
  stateOf: "ktf.dev/state-of",
  /** The version a chunk belongs to: the prefix of its chunks' names. */
  version: "ktf.dev/state-version",
} as const;

export const STATE_COMPONENT = { version: "state-version", errored: "state-errored", restore: "state-restore" } as const;

export const STATE_ANNOTATIONS = {
  serial: "ktf.dev/state-serial",
  lineage: "ktf.dev/state-lineage",
  digest: "ktf.dev/state-digest",
  size: "ktf.dev/state-size",
  chunks: "ktf.dev/state-chunks",
  version: "ktf.dev/state-version",
  run: "ktf.dev/state-run",
  user: "ktf.dev/state-user",
  written: "ktf.dev/state-written",
} as const;

/** Where a stored state is and what it must hash to (gzipped chunks; the digest is of the state itself). */
export interface StoredStateRef {
  /** The prefix of the chunk Secrets. */
  name: string;
  chunks: number;
  digest: string;
  size: number;
}

export interface StateVersion extends StoredStateRef, StateHeader {
  run?: string;
  user?: string;
  written: string;
}

/** Who wrote a version. */
export interface StateWriter {
  run?: string;
  user?: string;
}

export function versionPrefix(workspace: string, serial: number): string {
  return fit(`tfstate-${workspace}-v${serial}-${randomBytes(3).toString("hex").slice(0, 5)}`, 240);
}

/** Where `ktf state restore` puts the copy it fetched from the backup, for its run to push. */
export function restoredStateName(workspace: string, run: string): string {
  return fit(`tfstate-${workspace}-restore-${run}`, 240);
}

/** Where the state that the engine of `run` could not save is kept. */
export function erroredStateName(workspace: string, run: string): string {
  return fit(`tfstate-${workspace}-errored-${run}`, 240);
}

export function versionAnnotations(v: StateVersion): Record<string, string> {
  return {
    [STATE_ANNOTATIONS.serial]: String(v.serial),
    [STATE_ANNOTATIONS.lineage]: v.lineage,
    [STATE_ANNOTATIONS.digest]: v.digest,
    [STATE_ANNOTATIONS.size]: String(v.size),
    [STATE_ANNOTATIONS.chunks]: String(v.chunks),
    [STATE_ANNOTATIONS.version]: v.name,
    [STATE_ANNOTATIONS.written]: v.written,
    ...(v.run ? { [STATE_ANNOTATIONS.run]: v.run } : {}),
    ...(v.user ? { [STATE_ANNOTATIONS.user]: v.user } : {}),
  };
}

/** A version read back from its annotations (any chunk's), or undefined when they are not ktf's. */
export function versionFromAnnotations(annotations: Record<string, string> | undefined): StateVersion | undefined {
  const a = annotations ?? {};
  const serial = Number(a[STATE_ANNOTATIONS.serial]);
  const chunks = Number(a[STATE_ANNOTATIONS.chunks]);
  const size = Number(a[STATE_ANNOTATIONS.size]);
  const name = a[STATE_ANNOTATIONS.version];
  const lineage = a[STATE_ANNOTATIONS.lineage];
  const digest = a[STATE_ANNOTATIONS.digest];
  if (!name || !lineage || !digest || !Number.isInteger(serial) || !Number.isInteger(chunks) || chunks < 1 || !Number.isInteger(size)) return undefined;
  return {
    name,
    serial,
    lineage,
    digest,
    size,
    chunks,
    written: a[STATE_ANNOTATIONS.written] ?? "",
    ...(a[STATE_ANNOTATIONS.run] ? { run: a[STATE_ANNOTATIONS.run] } : {}),
    ...(a[STATE_ANNOTATIONS.user] ? { user: a[STATE_ANNOTATIONS.user] } : {}),
  };
}

/** The chunk Secrets of a stored state (pure). `gz` is the gzipped state. */
export function storedStateSecrets(o: { namespace: string; workspace: string; component: string; version: StateVersion; gz: Buffer; owner?: OwnerReference }): KubeObject[] {
  const secrets = chunkSecrets({
    namespace: o.namespace,
    name: o.version.name,
    bytes: o.gz,
    ...(o.owner ? { owner: o.owner } : {}),
    labels: { [STATE_LABELS.stateOf]: labelValue(o.workspace), [STATE_LABELS.version]: labelValue(o.version.name), [LABELS.component]: o.component },
  });
  const annotations = versionAnnotations(o.version);
  return secrets.map((s) => ({ ...s, metadata: { ...s.metadata, annotations } }));
}

export function gzipState(bytes: Buffer): Buffer {
  return gzipSync(bytes);
}

/**
 * The versions to delete under a retention of `keep` versions and `maxAgeDays`: the
 * oldest first go; the current version and the newest `minimum` are always kept.
 */
export function versionsToPrune(versions: readonly StateVersion[], o: { keep: number; maxAgeDays?: number; current?: string; now: Date }): StateVersion[] {
  const newestFirst = [...versions].sort(byNewest);
  const cutoff = o.maxAgeDays === undefined ? undefined : o.now.getTime() - o.maxAgeDays * 86_400_000;
  return newestFirst.filter((v, index) => {
    if (v.name === o.current || index === 0) return false;
    if (index >= o.keep) return true;
    return cutoff !== undefined && Date.parse(v.written) < cutoff;
  });
}

/** Newest first: by serial, then by when it was written. */
export function byNewest(a: StateVersion, b: StateVersion): number {
  return b.serial - a.serial || b.written.localeCompare(a.written);
}
