import { describe, expect, it } from "vitest";
import { summarizePlan } from "./plan-summary.js";

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
