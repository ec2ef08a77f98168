import { describe, expect, it } from "vitest";
import type { Run } from "../api/run.js";
import { runOutcome } from "./run-outcome.js";

const run = (spec: Partial<Run["spec"]>): Run =>
  ({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name: "r1", namespace: "n" }, spec: { workspace: "w", command: "plan", args: [], savePlan: false, interactive: false, cancel: false, ...spec } });
const summary = { add: 1, change: 0, destroy: 0, import: 0, hasChanges: true, digest: "sha256:d", size: 9, chunks: 1 };
const report = (r: object) => ({ writes: 0, refused: [], ...r });

describe("how a run ended", () => {
  it("keeps the plan the state sidecar reported, under the name derived from the run", () => {
    const o = runOutcome(run({ savePlan: true }), { exitCode: 0 }, report({ plan: summary }));
    expect(o).toMatchObject({ phase: "Succeeded", exitCode: 0, plan: { ...summary, secretName: "r1-plan" } });
  });

  it.each([
    ["a second plan was posted", report({ planContested: true }), /a second plan was posted/],
    ["no report at all", undefined, /reported no saved plan/],
    ["a report without a plan", report({}), /reported no saved plan/],
  ])("keeps no plan when %s", (_, r, message) => {
    const o = runOutcome(run({ savePlan: true }), { exitCode: 0 }, r);
    expect(o).toMatchObject({ phase: "Failed", reason: "PlanNotKept" });
    expect(o.plan).toBeUndefined();
    expect(o.message).toMatch(message);
  });

  it("takes the exit code as given, whatever the runner's own message claims", () => {
    expect(runOutcome(run({ command: "apply" }), { exitCode: 1, error: "all fine" }, undefined)).toMatchObject({ phase: "Failed", exitCode: 1 });
    expect(runOutcome(run({ args: ["-detailed-exitcode"] }), { exitCode: 2 }, undefined)).toMatchObject({ phase: "Succeeded", exitCode: 2 });
  });

  it("says where a state the engine could not save is kept, and how to push it back", () => {
    const o = runOutcome(run({ command: "apply" }), { exitCode: 1 }, report({ errored: { name: "tfstate-w-errored-r1", serial: 4, size: 10 } }));
    expect(o).toMatchObject({ phase: "Failed", reason: "StateNotSaved" });
    expect(o.message).toBe("the engine could not save the state (serial 4); ktf kept it in Secrets tfstate-w-errored-r1-0...: push it back with: ktf state recover r1");
  });
});
