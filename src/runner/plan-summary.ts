import type { PlanSummary } from "../api/run.js";

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
