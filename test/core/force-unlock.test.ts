import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateLock } from "../../src/state/state-lock.js";
import { HELLO, workspaceFixture } from "../harness/workspace.js";

/** A lock that nothing will release: its holder is no run of this cluster (say, a crashed tool). */
describe("force-unlock", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let lock: StateLock;
  beforeAll(async () => {
    w = await workspaceFixture("unlock", { "main.tf": HELLO });
    lock = new StateLock(w.client, { namespace: w.ns, suffix: "main" }, "a-run-long-gone");
    expect(await lock.lock({ ID: "stuck-lock-id", Operation: "OperationTypeApply", Who: "someone@laptop" })).toEqual({ ok: true });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("asks first, as the engine would, and does nothing without a yes", async () => {
    const r = await w.ktf(["force-unlock", "stuck-lock-id"], { input: "no\n" });
    expect(r.stderr).toContain(`Do you really want to force-unlock the state of workspace "main"?`);
    expect(r.stderr).toContain("force-unlock cancelled.");
    expect(r.code).toBe(1);
    expect((await lock.holder())?.ID).toBe("stuck-lock-id");
  });

  it("refuses an ID that does not hold the lock", async () => {
    const r = await w.ktf(["force-unlock", "-force", "some-other-id"]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("ktf: the state's lock is held by ID stuck-lock-id (apply by someone@laptop); force-unlock takes that ID");
    expect((await lock.holder())?.ID).toBe("stuck-lock-id");
  });

  it("releases the lock on yes, and the next plan takes it at once", async () => {
    const r = await w.ktf(["force-unlock", "stuck-lock-id"], { input: "yes\n" });
    expect(r.stdout).toContain("state has been successfully unlocked");
    expect(r.code).toBe(0);
    expect(await lock.holder()).toBeUndefined();
    const plan = await w.ktf(["plan", "-lock-timeout=0s"]);
    expect(plan.code, plan.stderr).toBe(0);
  });
});
