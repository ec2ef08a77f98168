import { describe, expect, it } from "vitest";
import { runSchema, type Run } from "../api/run.js";
import { runQueue, runsToPrune } from "./run-queue.js";

const run = (name: string, second: number, o: { phase?: string; command?: string; planRun?: string; uploading?: boolean; archiveFrom?: string } = {}): Run =>
  runSchema.parse({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Run",
    metadata: { name, namespace: "n", creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString(), ...(o.archiveFrom ? { annotations: { "ktf.dev/archive-from": o.archiveFrom } } : {}) },
    spec: { workspace: "w", command: o.command ?? "apply", ...(o.planRun ? { planRun: o.planRun } : {}) },
    ...(o.phase || o.uploading
      ? { status: { phase: o.uploading ? "Queued" : o.phase, ...(o.uploading ? { conditions: [{ type: "Queued", status: "True", reason: "WaitingForArchive", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }] } : {}) } }
      : {}),
  });
const names = (runs: Run[]) => runs.map((r) => r.metadata.name);

describe("runQueue", () => {
  it("gives no place to a run still uploading: the next one goes first", () => {
    const q = runQueue([run("a", 1, { uploading: true }), run("b", 2)]);
    expect(q.active?.metadata.name).toBe("b");
    expect(names(q.waiting)).toEqual([]);
  });
});

describe("runsToPrune", () => {
  it("deletes the finished runs past the newest ones kept, never one unfinished", () => {
    const runs = [run("old", 1, { phase: "Succeeded" }), run("mid", 2, { phase: "Failed" }), run("new", 3, { phase: "Succeeded" }), run("going", 0, { phase: "Running" })];
    expect(names(runsToPrune(runs, 2, new Set()))).toEqual(["old"]);
    expect(names(runsToPrune(runs, 1, new Set()))).toEqual(["mid", "old"]);
    expect(runsToPrune(runs, 3, new Set())).toEqual([]);
  });

  it("keeps the runs the workspace's status names, and plans an unfinished apply applies", () => {
    const runs = [run("plan", 1, { phase: "Succeeded", command: "plan" }), run("older", 0, { phase: "Succeeded" }), run("apply", 5, { planRun: "plan" }), run("newest", 6, { phase: "Succeeded" })];
    expect(names(runsToPrune(runs, 1, new Set(["older"])))).toEqual([]);
    expect(names(runsToPrune(runs, 1, new Set()))).toEqual(["older"]);
  });

  it("keeps a run whose archive an unfinished run reuses (it may not own the chunks yet), and lets it go once that run ended", () => {
    const runs = [run("first", 1, { phase: "Succeeded" }), run("reuser", 2, { archiveFrom: "first" }), run("newest", 3, { phase: "Succeeded" })];
    expect(names(runsToPrune(runs, 1, new Set()))).toEqual([]);
    expect(names(runsToPrune([...runs.slice(0, 1), run("reuser", 2, { archiveFrom: "first", phase: "Succeeded" }), ...runs.slice(2)], 1, new Set()))).toEqual(["reuser", "first"]);
  });
});
