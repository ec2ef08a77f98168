import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { waitFor } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("finished runs", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("history", { "main.tf": 'resource "terraform_data" "x" {}\n' });
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec: { runHistory: 2 } });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  /** The chunk Secrets of the namespace (configurations' and saved plans'), by name. */
  const chunks = async () =>
    (await w.client.list<KubeObject & { type?: string }>(RESOURCES.Secret, w.ns)).items.filter((s) => s.type === "ktf.dev/chunk").map((s) => s.metadata.name ?? "");

  it("are kept up to the workspace's runHistory, and the last run of each command; the rest go with their pods, archives and plans", async () => {
    const plans: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await w.ktf(["plan", "-out=saved.tfplan"]);
      expect(r.code, r.stderr).toBe(0);
      plans.push(runNameIn(r));
    }
    const [oldPlan = "", lastPlan = ""] = plans;
    expect(await chunks()).toContain(`${oldPlan}-plan-0`);
    const validates: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await w.ktf(["validate"]);
      expect(r.code, r.stderr).toBe(0);
      validates.push(runNameIn(r));
    }
    // The newest two (validates), and the last plan, which is the last of its command.
    const left = await waitFor(async () => {
      const names = (await w.runs()).map((r) => r.metadata.name);
      return names.length === 3 ? names : undefined;
    }, 60_000, "the old runs to go");
    expect(left).toEqual([lastPlan, ...validates.slice(2)]);
    for (const gone of [oldPlan, ...validates.slice(0, 2)]) {
      await waitFor(async () => (await w.client.get(RESOURCES.Pod, w.ns, gone)) === undefined, 60_000, `the pod of ${gone} to go`);
    }
    // What is left is exactly what the runs left need: their configurations and the last plan's saved plan.
    const kept = await w.runs();
    // The same configuration each time: stored once, by the first run, and kept by the runs that use it.
    expect(new Set(kept.map((r) => r.spec.archive?.name))).toEqual(new Set([`${oldPlan}-cfg`]));
    const needed = [...new Set(kept.map((r) => `${r.spec.archive?.name}-0`)), `${lastPlan}-plan-0`].sort();
    await waitFor(async () => JSON.stringify((await chunks()).sort()) === JSON.stringify(needed), 60_000, `only ${needed.join(", ")} to be left`);
    expect(await w.client.get(RESOURCES.Pod, w.ns, validates[3] ?? "")).toBeDefined();
  });
});
