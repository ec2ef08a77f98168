import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceSchema } from "../../src/api/workspace.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { HELLO, runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("plan, apply, output, destroy through the cluster", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("cycle", { "main.tf": HELLO });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("plans in a pod and exits with the engine's code", async () => {
    const plan = await w.ktf(["plan", "-var", "greeting=hi"]);
    expect(plan.stderr).toContain("ktf: run main-plan-");
    expect(plan.stdout).toContain("Plan: 2 to add, 0 to change, 0 to destroy.");
    expect(plan.stdout).toContain('+ input  = "hi-server-0"');
    expect(plan.code).toBe(0);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    expect(run?.status?.phase).toBe("Succeeded");
    expect(run?.status?.exitCode).toBe(0);
    expect(run?.status?.conditions?.find((c) => c.type === "Complete")?.reason).toBe("Succeeded");
  });

  it("applies exactly the plan it showed once the user says yes", async () => {
    const apply = await w.ktf(["apply", "-var", "greeting=hi"], { input: "yes\n" });
    expect(apply.stdout).toContain("Plan: 2 to add, 0 to change, 0 to destroy.");
    expect(apply.stderr).toContain("Only 'yes' will be accepted to approve.");
    expect(apply.stderr).toMatch(/ktf: the saved plan \(run \S+-plan-\S+\): 2 to add, 0 to change, 0 to destroy\n/);
    expect(apply.stdout).toContain("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.");
    expect(apply.code).toBe(0);
    const runs = await w.runs();
    const applyRun = runs.find((r) => r.spec.command === "apply");
    const planRun = runs.find((r) => r.metadata.name === applyRun?.spec.planRun);
    expect(planRun?.spec.savePlan).toBe(true);
    expect(planRun?.status?.plan).toMatchObject({ add: 2, change: 0, destroy: 0, hasChanges: true });
  });

  it("does nothing without a yes", async () => {
    const apply = await w.ktf(["apply", "-var", "greeting=other"], { input: "no\n" });
    expect(apply.stderr).toContain("Apply cancelled.");
    expect(apply.code).toBe(1);
    expect((await w.runs()).filter((r) => r.spec.command === "apply")).toHaveLength(1);
  });

  it("shows outputs, in the engine's words and in the workspace's status", async () => {
    const out = await w.ktf(["output", "-json", "servers"]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(["hi-server-0", "hi-server-1"]);
    const ws = workspaceSchema.parse(await w.client.get(RESOURCES.Workspace, w.ns, "main"));
    expect(ws.status?.outputs).toEqual([{ name: "servers", type: '["tuple",["string","string"]]', value: '["hi-server-0","hi-server-1"]' }]);
    expect(ws.status?.lastRuns?.apply).toMatch(/^main-apply-/);
  });

  it("asks before destroying, in the engine's words, and destroys nothing without a yes", async () => {
    const destroy = await w.ktf(["destroy", "-var", "greeting=hi"], { input: "no\n" });
    expect(destroy.stdout).toContain("Plan: 0 to add, 0 to change, 2 to destroy.");
    expect(destroy.stderr).toContain('Do you really want to destroy all resources in workspace "main"?');
    expect(destroy.stderr).toContain("Destroy cancelled.");
    expect(destroy.code).toBe(1);
    expect(JSON.parse((await w.ktf(["output", "-json", "servers"])).stdout)).toEqual(["hi-server-0", "hi-server-1"]);
  });

  it("destroys", async () => {
    const destroy = await w.ktf(["destroy", "-auto-approve", "-var", "greeting=hi"]);
    expect(destroy.stdout).toContain("Destroy complete! Resources: 2 destroyed.");
    expect(destroy.code).toBe(0);
    const list = await w.ktf(["runs", "list"]);
    expect(list.stdout).toMatch(/main-destroy-\S+\s+main\s+destroy -auto-approve/);
  });

  it("gives a failing configuration's exit code and a Failed run", async () => {
    await mkdir(join(w.dir, "broken"));
    await writeFile(join(w.dir, "broken", "main.tf"), 'resource "terraform_data" "x" {\n  input = var.undeclared\n}\n');
    const bad = await w.ktf(["plan", "-chdir=broken"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Reference to undeclared input variable");
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(bad));
    expect(run?.status?.phase).toBe("Failed");
    expect(run?.status?.exitCode).toBe(1);
    expect(run?.status?.conditions?.find((c) => c.type === "Complete")?.message).toBe("plan exited with code 1");
  });

  it("passes -detailed-exitcode through: 2 means changes, and the run still succeeds", async () => {
    const plan = await w.ktf(["plan", "-detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect((await w.runs()).find((r) => r.metadata.name === runNameIn(plan))?.status?.phase).toBe("Succeeded");
  });
});
