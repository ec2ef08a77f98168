import { createHash } from "node:crypto";
import { StateConflictError, UsageError } from "../errors.js";

/** What identifies a state file among its versions: terraform's `lineage` and `serial`. */
export interface StateHeader {
  serial: number;
  lineage: string;
}

/** The header of a state file the engine wrote; an unreadable one is refused (400). */
export function stateHeader(bytes: Buffer): StateHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new UsageError("the state is not JSON");
  }
  const { serial, lineage } = (parsed ?? {}) as { serial?: unknown; lineage?: unknown };
  if (typeof serial !== "number" || !Number.isInteger(serial) || serial < 0) throw new UsageError("the state has no serial (expected a whole number)");
  if (typeof lineage !== "string" || !lineage) throw new UsageError("the state has no lineage (expected a string)");
  return { serial, lineage };
}

export function stateDigest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * A write may replace the current state only if it continues it, as the engines' own
 * backends require: the same lineage, and a serial that does not go backwards.
 */
export function checkStateWrite(current: StateHeader | undefined, next: StateHeader): void {
  if (!current) return;
  if (next.lineage !== current.lineage) {
    throw new StateConflictError(`the state's lineage is ${current.lineage}, not ${next.lineage}: a state of another lineage cannot replace it`);
  }
  if (next.serial < current.serial) {
    throw new StateConflictError(`the state is at serial ${current.serial}; a write of serial ${next.serial} would go backwards`);
  }
}

/** The same state with another serial (and lineage): how a stored version becomes the newest again. */
export function withHeader(bytes: Buffer, header: StateHeader): Buffer {
  const state = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  return Buffer.from(`${JSON.stringify({ ...state, serial: header.serial, lineage: header.lineage }, null, 2)}\n`);
}
