import { describe, expect, it } from "vitest";
import { StateConflictError, UsageError } from "../errors.js";
import { checkStateWrite, stateHeader, withHeader } from "./state-file.js";

describe("state writes", () => {
  const current = { serial: 5, lineage: "L" };
  it.each([
    ["the same lineage, a higher serial", { serial: 6, lineage: "L" }, undefined],
    ["the same serial again", { serial: 5, lineage: "L" }, undefined],
    ["a lower serial", { serial: 4, lineage: "L" }, "the state is at serial 5; a write of serial 4 would go backwards"],
    ["another lineage", { serial: 9, lineage: "M" }, "the state's lineage is L, not M: a state of another lineage cannot replace it"],
  ])("%s", (_, next, refusal) => {
    if (refusal === undefined) expect(() => checkStateWrite(current, next)).not.toThrow();
    else expect(() => checkStateWrite(current, next)).toThrow(new StateConflictError(refusal));
  });

  it("accepts any first state", () => {
    expect(() => checkStateWrite(undefined, { serial: 0, lineage: "x" })).not.toThrow();
  });

  it.each([
    ["not json", "the state is not JSON"],
    ['{"lineage":"L"}', "the state has no serial (expected a whole number)"],
    ['{"serial":1.5,"lineage":"L"}', "the state has no serial (expected a whole number)"],
    ['{"serial":1}', "the state has no lineage (expected a string)"],
  ])("refuses %s", (text, message) => {
    expect(() => stateHeader(Buffer.from(text))).toThrow(new UsageError(message));
  });

  it("rewrites the header and keeps the rest", () => {
    const next = withHeader(Buffer.from('{"version":4,"serial":1,"lineage":"L","resources":[1]}'), { serial: 7, lineage: "L" });
    expect(JSON.parse(next.toString())).toEqual({ version: 4, serial: 7, lineage: "L", resources: [1] });
  });
});
