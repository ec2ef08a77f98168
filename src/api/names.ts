import { createHash } from "node:crypto";

const MAX_NAME = 253;
const MAX_LABEL = 63;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 10);
}

/** `base` if it fits in `max` characters, else a prefix of it plus a hash of the whole. */
export function fit(base: string, max: number): string {
  if (base.length <= max) return base;
  return `${base.slice(0, max - 11).replace(/[-.]+$/, "")}-${shortHash(base)}`;
}

/** A label value (at most 63 characters) that identifies an object name. */
export function labelValue(name: string): string {
  return fit(name, MAX_LABEL);
}

/** The `ktf.dev/archive-digest` label of an archive: its sha256 cut to 32 hex digits to fit a label (the spec has all of it). */
export function archiveDigestLabel(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 32);
}

/** The names of what ktf creates for a workspace or a run. Derived, never stored. */
export const names = {
  /** The pod that executes a run: the run's own name. */
  runPod: (run: string) => run,
  /** The ServiceAccount runs of a workspace use when the workspace names none. */
  runnerServiceAccount: (ws: string) => fit(`ktf-run-${ws}`, MAX_NAME),
  /** The Role and RoleBinding that let a workspace's runs reach its state. */
  runnerRole: (ws: string) => fit(`ktf-run-${ws}`, MAX_NAME),
  cacheClaim: (ws: string) => fit(`ktf-cache-${ws}`, MAX_NAME),
  /** The Role and RoleBinding that let a console run's creator attach to its pod. */
  consoleAccess: (run: string) => fit(`ktf-attach-${run}`, MAX_NAME),
  outputsSecret: (ws: string) => fit(`${ws}-outputs`, MAX_NAME),
  /** The prefix of the Secrets holding a run's saved plan. */
  planSecret: (run: string) => fit(`${run}-plan`, MAX_NAME - 4),
} as const;
