import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("a run whose pod cannot start", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("podstart", { "main.tf": 'variable "token" {}\n' }, ["--secret-var", "token=missing-secret/token"]);
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("says why while it waits, then fails with the reason (the e2e operator gives up after 20 s)", async () => {
    const plan = await w.ktf(["plan"]);
    expect(plan.stderr).toMatch(/CreateContainerConfigError: secret "missing-secret" not found/);
    expect(plan.code).toBe(1);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    expect(run?.status?.phase).toBe("Failed");
    const complete = run?.status?.conditions?.find((c) => c.type === "Complete");
    expect(complete?.reason).toBe("PodCannotStart");
    expect(complete?.message).toMatch(/could not start in 20s: CreateContainerConfigError: secret "missing-secret" not found/);
    expect(await w.client.get(RESOURCES.Pod, w.ns, run?.metadata.name ?? "")).toBeUndefined();
  });
});
