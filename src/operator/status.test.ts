import { describe, expect, it } from "vitest";
import { mergePatch, setCondition } from "./status.js";

describe("setCondition", () => {
  const t1 = new Date("2026-01-01T00:00:00Z");
  const t2 = new Date("2026-01-01T00:01:00Z");

  it("keeps the transition time while the status stays the same", () => {
    const first = setCondition([], { type: "Ready", status: "True", reason: "A" }, t1);
    const second = setCondition(first, { type: "Ready", status: "True", reason: "B", message: "m" }, t2);
    expect(second).toEqual([{ type: "Ready", status: "True", reason: "B", message: "m", lastTransitionTime: t1.toISOString() }]);
  });

  it("moves the transition time when the status changes", () => {
    const first = setCondition([], { type: "Ready", status: "True", reason: "A" }, t1);
    expect(setCondition(first, { type: "Ready", status: "False", reason: "A" }, t2)[0]?.lastTransitionTime).toBe(t2.toISOString());
  });
});

describe("mergePatch", () => {
  it.each([
    [{ a: 1, b: 2 }, { a: 1 }, { b: null }],
    [{ a: { x: 1, y: 2 } }, { a: { x: 1, y: 3 } }, { a: { y: 3 } }],
    [{ a: [1, 2] }, { a: [1] }, { a: [1] }],
    [{}, { a: "new" }, { a: "new" }],
    [{ a: 1 }, { a: 1 }, {}],
  ])("%j -> %j", (before, after, patch) => {
    expect(mergePatch(before, after)).toEqual(patch);
  });
});
