import { describe, expect, it } from "vitest";
import { PrintedSummaries, savedPlanMismatch, summarizePlan } from "./plan-summary.js";

const rc = (...actions: string[]) => ({ change: { actions } });

describe("summarizePlan", () => {
  it.each([
    ["nothing", {}, { add: 0, change: 0, destroy: 0, import: 0, hasChanges: false }],
    ["a create", { resource_changes: [rc("create")] }, { add: 1, change: 0, destroy: 0, import: 0, hasChanges: true }],
    ["an update and a no-op", { resource_changes: [rc("update"), rc("no-op")] }, { add: 0, change: 1, destroy: 0, import: 0, hasChanges: true }],
    ["a replace counts as add and destroy", { resource_changes: [rc("delete", "create")] }, { add: 1, change: 0, destroy: 1, import: 0, hasChanges: true }],
    ["a delete", { resource_changes: [rc("delete")] }, { add: 0, change: 0, destroy: 1, import: 0, hasChanges: true }],
    ["an import", { resource_changes: [{ change: { actions: ["no-op"], importing: { id: "x" } } }] }, { add: 0, change: 0, destroy: 0, import: 1, hasChanges: true }],
    ["only an output", { output_changes: { o: { actions: ["create"] } } }, { add: 0, change: 0, destroy: 0, import: 0, hasChanges: true }],
  ])("%s", (_name, plan, expected) => {
    expect(summarizePlan(plan)).toEqual(expected);
  });
});

describe("PrintedSummaries and savedPlanMismatch", () => {
  const zero = { add: 0, change: 0, destroy: 0, import: 0 };
  it("read the summary line, coloured or not, split across chunks, and -json's change_summary", () => {
    const p = new PrintedSummaries();
    p.push("Terraform will perform...\n\u001b[1mPlan:\u001b[0m 2 to a");
    p.push("dd, 0 to change, 1 to destroy.\n");
    p.push('{"@message":"Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.","type":"change_summary","changes":{"add":0,"change":0,"import":1,"remove":0,"operation":"plan"}}');
    p.end();
    expect(p.found).toEqual([
      { add: 2, change: 0, destroy: 1, import: 0 },
      { add: 0, change: 0, destroy: 0, import: 1 },
    ]);
  });

  it("accept a saved plan that matches every summary shown, or no summary for no change", () => {
    expect(savedPlanMismatch({ ...zero, add: 1 }, [{ ...zero, add: 1 }])).toBeUndefined();
    expect(savedPlanMismatch(zero, [])).toBeUndefined();
  });

  it("refuse a saved plan that differs from what was shown, or from a second, forged summary", () => {
    expect(savedPlanMismatch({ ...zero, destroy: 1 }, [{ ...zero, add: 1 }])).toMatch(/saved plan file \(0 to add, 0 to change, 1 to destroy\) is not the plan the engine showed \(1 to add, 0 to change, 0 to destroy\)/);
    expect(savedPlanMismatch({ ...zero, add: 1 }, [{ ...zero, add: 1 }, zero])).toMatch(/not the plan the engine showed \(0 to add/);
    expect(savedPlanMismatch({ ...zero, add: 1 }, [])).toMatch(/engine showed \(0 to add/);
  });
});
