import { z } from "zod";
import { planSummarySchema } from "../api/run.js";
import { StateAccessError } from "../errors.js";
import { stateDigest } from "./state-file.js";
import type { StateVersion } from "./state-versions.js";

/**
 * What the state sidecar tells the operator when the run ends, in its own container's
 * termination message: a file that the configuration's code, in the runner's container,
 * cannot write. The saved plan's digest and summary come from here, never from the runner.
 */
export const stateReportSchema = z.object({
  plan: planSummarySchema.optional(),
  /** Something besides the runner posted a plan: none is kept. */
  planContested: z.boolean().optional(),
  /** The newest serial this run wrote, and how many versions. */
  serial: z.number().int().optional(),
  writes: z.number().int().default(0),
  /** The state the engine could not save, kept for `ktf state recover`. */
  errored: z.object({ name: z.string(), serial: z.number().int(), size: z.number().int() }).optional(),
  /** Requests refused (the first few), as "METHOD /path: status why". */
  refused: z.array(z.string()).default([]),
});
export type StateReportData = z.infer<typeof stateReportSchema>;

const planSummaryHeaderSchema = planSummarySchema.pick({ add: true, change: true, destroy: true, import: true, hasChanges: true });
/** The kubelet keeps 4 KiB of a termination message; the report stays well under. */
const MAX_REFUSED = 8;

export class StateReport {
  private readonly data: StateReportData = { writes: 0, refused: [] };

  refused(route: string, status: number, why: string): void {
    if (this.data.refused.length < MAX_REFUSED) this.data.refused.push(`${route}: ${status} ${why}`.slice(0, 300));
  }

  wrote(version: StateVersion): void {
    this.data.writes++;
    this.data.serial = version.serial;
  }

  planContested(): void {
    this.data.planContested = true;
    delete this.data.plan;
  }

  /** The summary the runner computed, from its header (a bad one is refused). */
  planSummary(header: string | string[] | undefined): z.infer<typeof planSummaryHeaderSchema> {
    try {
      return planSummaryHeaderSchema.parse(JSON.parse(String(header ?? "")));
    } catch {
      throw new StateAccessError(400, "the plan's summary header is missing or not a plan summary");
    }
  }

  planSaved(bytes: Buffer, chunks: number, summary: z.infer<typeof planSummaryHeaderSchema>): void {
    if (this.data.planContested) return;
    this.data.plan = { ...summary, digest: stateDigest(bytes), size: bytes.length, chunks };
  }

  keptErrored(version: StateVersion): void {
    this.data.errored = { name: version.name, serial: version.serial, size: version.size };
  }

  toJSON(): StateReportData {
    return this.data;
  }
}

/** The report from a termination message; undefined when there is none or it is not one. */
export function parseStateReport(message: string | undefined): StateReportData | undefined {
  if (!message) return undefined;
  try {
    return stateReportSchema.parse(JSON.parse(message));
  } catch {
    return undefined;
  }
}
