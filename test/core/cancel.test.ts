import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema } from "../../src/api/run.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { waitFor } from "../harness/cluster.js";
import { SLOW, workspaceFixture } from "../harness/workspace.js";

describe("cancel", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("cancel", { "main.tf": SLOW });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  async function runningRun() {
    return waitFor(async () => (await w.runs()).find((r) => r.status?.phase === "Running"), 120_000, "a running run");
  }

  it("stops a running run cleanly: the engine releases the state lock and the run is Canceled", async () => {
    const apply = w.ktf(["apply", "-auto-approve", "-var", "tag=a", "-var", "seconds=120"]);
    const run = await runningRun();
    // Let the engine take the lock and start the provisioner.
    await new Promise((r) => setTimeout(r, 3000));
    const cancel = await w.ktf(["runs", "cancel", run.metadata.name ?? ""]);
    expect(cancel.code).toBe(0);
    const result = await apply;
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/Interrupt received|Gracefully shutting down/);
    const after = runSchema.parse(await w.client.get(RESOURCES.Run, w.ns, run.metadata.name ?? ""));
    expect(after.status?.phase).toBe("Canceled");
    // The lock is free: a new state-changing run gets the state at once.
    const plan = await w.ktf(["plan", "-lock-timeout=0s", "-var", "tag=a"]);
    expect(plan.code).toBe(0);
  });

  it("cancels a queued run before it ever starts", async () => {
    const apply = w.ktf(["apply", "-auto-approve", "-var", "tag=b", "-var", "seconds=120"]);
    const active = await runningRun();
    const queued = w.ktf(["plan", "-var", "tag=b"]);
    const waiting = await waitFor(async () => (await w.runs()).find((r) => r.status?.phase === "Queued"), 60_000, "a queued run");
    expect((await w.ktf(["runs", "cancel", waiting.metadata.name ?? ""])).code).toBe(0);
    const q = await queued;
    expect(q.code).toBe(130);
    const canceled = runSchema.parse(await w.client.get(RESOURCES.Run, w.ns, waiting.metadata.name ?? ""));
    expect(canceled.status?.phase).toBe("Canceled");
    expect(canceled.status?.podName).toBeUndefined();
    expect(await w.client.get(RESOURCES.Pod, w.ns, waiting.metadata.name ?? "")).toBeUndefined();
    await w.ktf(["runs", "cancel", active.metadata.name ?? ""]);
    await apply;
  });
});
