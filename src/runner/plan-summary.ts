import type { PlanSummary } from "../api/run.js";

export { PrintedSummaries } from "../run-log/printed-summaries.js";
import type { Counts } from "../run-log/printed-summaries.js";

/** The parts of `<engine> show -json <plan>` that a summary needs. */
interface PlanJson {
  resource_changes?: { change?: { actions?: string[]; importing?: unknown } }[];
  output_changes?: Record<string, { actions?: string[] }>;
}

/** Counts as the engine prints them in "Plan: 1 to add, 0 to change, 0 to destroy." */
export function summarizePlan(plan: PlanJson): Omit<PlanSummary, "secretName" | "digest" | "size" | "chunks"> {
  let add = 0;
  let change = 0;
  let destroy = 0;
  let imports = 0;
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change?.actions ?? [];
    if (rc.change?.importing) imports++;
    if (actions.includes("create")) add++;
    if (actions.includes("delete")) destroy++;
    if (actions.length === 1 && actions[0] === "update") change++;
  }
  const outputsChange = Object.values(plan.output_changes ?? {}).some((o) => (o.actions ?? []).some((a) => a !== "no-op"));
  return { add, change, destroy, import: imports, hasChanges: add + change + destroy + imports > 0 || outputsChange };
}

/**
 * Why the saved plan is not the plan the engine showed, if it is not: the configuration's
 * code, which runs during the plan, can replace the plan file before the runner reads it.
 * An engine that printed no summary planned no resource change.
 */
export function savedPlanMismatch(saved: Counts, printed: readonly Counts[]): string | undefined {
  const text = (c: Counts) => `${c.import ? `${c.import} to import, ` : ""}${c.add} to add, ${c.change} to change, ${c.destroy} to destroy`;
  const shown = printed.length ? printed : [{ add: 0, change: 0, destroy: 0, import: 0 }];
  const other = shown.find((c) => text(c) !== text(saved));
  if (!other) return undefined;
  return `the saved plan file (${text(saved)}) is not the plan the engine showed (${text(other)}): something in the run replaced it, so it is not kept and cannot be applied`;
}
