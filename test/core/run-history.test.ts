import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { waitFor } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("finished runs", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("history", { "main.tf": "" });
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec: { runHistory: 2 } });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("are kept up to the workspace's runHistory, the newest, and the rest deleted with their pods", async () => {
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await w.ktf(["validate"]);
      expect(r.code).toBe(0);
      made.push(runNameIn(r));
    }
    const left = await waitFor(async () => {
      const names = (await w.runs()).map((r) => r.metadata.name);
      return names.length === 2 ? names : undefined;
    }, 60_000, "the old runs to go");
    expect(left).toEqual(made.slice(2));
    expect(await w.client.get(RESOURCES.Pod, w.ns, made[0] ?? "")).toBeUndefined();
  });
});
