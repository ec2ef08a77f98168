import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HELLO, runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("a saved plan", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("saved-plan", { "main.tf": HELLO });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("is applied exactly, and refused once the state has changed since it was made", async () => {
    const first = await w.ktf(["plan", "-out=first", "-var", "greeting=a"]);
    expect(first.code, first.stderr).toBe(0);
    const second = await w.ktf(["plan", "-out=second", "-var", "greeting=b"]);
    expect(second.code, second.stderr).toBe(0);

    const applied = await w.ktf(["apply", `-plan=${runNameIn(second)}`]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.");

    // The first plan was made against the empty state: applying it now would undo the second.
    const stale = await w.ktf(["apply", `-plan=${runNameIn(first)}`]);
    expect(stale.code).toBe(1);
    expect(stale.stdout + stale.stderr).toMatch(/Saved plan is stale/);
    const out = await w.ktf(["output", "-json", "servers"]);
    expect(JSON.parse(out.stdout)).toEqual(["b-server-0", "b-server-1"]);
  });

  it("takes -auto-approve and the apply step's own flags with -plan=RUN, and refuses --detach without -auto-approve", async () => {
    const third = await w.ktf(["plan", "-out=third", "-var", "greeting=c"]);
    expect(third.code, third.stderr).toBe(0);
    const applied = await w.ktf(["apply", `-plan=${runNameIn(third)}`, "-auto-approve", "-parallelism=2"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Apply complete! Resources: \d+ added, \d+ changed, \d+ destroyed\./);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(applied));
    expect(run?.spec.args).toEqual(["-parallelism=2"]);

    const detached = await w.ktf(["apply", "--detach", "-var", "greeting=d"]);
    expect(detached.code).toBe(1);
    expect(detached.stderr).toMatch(/apply --detach cannot ask for approval: add -auto-approve/);
  });
});
