import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ktf } from "../harness/cluster.js";
import { configDir, HELLO, runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("ktf's options from KTF_* variables", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  /** A configuration directory that selects nothing. */
  let bare: Awaited<ReturnType<typeof configDir>>;
  beforeAll(async () => {
    w = await workspaceFixture("envflags", { "main.tf": HELLO });
    const other = await w.ktf(["workspace", "new", "other", "-n", w.ns, "--no-select"]);
    expect(other.code, other.stderr).toBe(0);
    bare = await configDir({ "main.tf": HELLO });
  });
  afterAll(async () => {
    await bare.remove();
    await w.cleanup();
  });

  it("select the namespace and workspace of a directory that selects none, as the flags would", async () => {
    const plan = await ktf(["plan"], { cwd: bare.dir, env: { KTF_NAMESPACE: w.ns, KTF_WORKSPACE: "main" } });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(`(workspace main, namespace ${w.ns})`);
    expect(plan.stdout).toContain("Plan: 2 to add, 0 to change, 0 to destroy.");
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    expect(run?.spec.workspace).toBe("main");
    // The environment filled ktf's options: the engine got none of them.
    expect(run?.spec.args).toEqual([]);
  });

  it("beat the directory's selection", async () => {
    const plan = await w.ktf(["plan"], { env: { KTF_WORKSPACE: "other" } });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(`(workspace other, namespace ${w.ns})`);
  });

  it("give way to the flags", async () => {
    const plan = await ktf(["plan", "-n", w.ns, "--workspace", "other", "-var", "greeting=hey"], { cwd: bare.dir, env: { KTF_NAMESPACE: "no-such-namespace", KTF_WORKSPACE: "main" } });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(`(workspace other, namespace ${w.ns})`);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    expect(run?.spec.args).toEqual(["-var", "greeting=hey"]);
  });

  it("detach with KTF_DETACH=1, and say what is wrong with KTF_DETACH=yes", async () => {
    const detached = await ktf(["plan"], { cwd: bare.dir, env: { KTF_NAMESPACE: w.ns, KTF_WORKSPACE: "main", KTF_DETACH: "1" } });
    expect(detached.code, detached.stderr).toBe(0);
    expect(detached.stderr).toContain(`ktf: detached; follow it with: ktf runs logs ${runNameIn(detached)} -f`);
    const before = (await w.runs()).length;
    const bad = await ktf(["plan"], { cwd: bare.dir, env: { KTF_NAMESPACE: w.ns, KTF_WORKSPACE: "main", KTF_DETACH: "yes" } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('ktf: error: KTF_DETACH expects true, false, 1 or 0, got "yes"\n');
    expect(await w.runs()).toHaveLength(before);
  });

  it("fill the options of ktf's own commands: runs list with KTF_WORKSPACE", async () => {
    const list = await ktf(["runs", "list"], { cwd: bare.dir, env: { KTF_NAMESPACE: w.ns, KTF_WORKSPACE: "other" } });
    expect(list.code, list.stderr).toBe(0);
    const workspaces = list.stdout.trim().split("\n").slice(1).map((line) => line.split(/\s+/)[1]);
    expect(workspaces.length).toBeGreaterThan(0);
    expect(new Set(workspaces)).toEqual(new Set(["other"]));
  });
});
