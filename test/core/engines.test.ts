import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../harness/cluster.js";
import { HELLO, cacheVolume, runNameIn, workspaceFixture } from "../harness/workspace.js";

describe("engines", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("engines", { "main.tf": HELLO }, ["--engine", "terraform", "--engine-version", "1.5.7"]);
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("runs Terraform 1.5.7 when the workspace asks for it, state and all", async () => {
    const apply = await w.ktf(["apply", "-auto-approve"]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("Terraform will perform the following actions");
    expect(apply.stdout).toContain("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.");
    const plan = await w.ktf(["plan", "-detailed-exitcode"]);
    expect(plan.stdout).toContain("No changes. Your infrastructure matches the configuration.");
    expect(plan.code).toBe(0);
  });

  it("refuses to run an engine version the image does not have, and says what to do", async () => {
    await kubectl(["-n", w.ns, "patch", "workspace", "main", "--type=merge", "-p", '{"spec":{"engine":{"name":"tofu","version":"9.9.9"}}}']);
    const plan = await w.ktf(["plan"]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/the workspace asks for tofu 9\.9\.9 but this run image has 1\.10\.10; set spec\.image/);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    expect(run?.status?.conditions?.find((c) => c.type === "Complete")?.message).toMatch(/asks for tofu 9\.9\.9/);
  });
});

describe("the provider cache volume", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let cache: Awaited<ReturnType<typeof cacheVolume>>;
  beforeAll(async () => {
    w = await workspaceFixture("cache", { "main.tf": HELLO });
    cache = await cacheVolume(w);
  });
  afterAll(async () => {
    await w.cleanup();
    await cache.remove();
  });

  it("is a claim the workspace owns, mounted by every run", async () => {
    const plan = await w.ktf(["plan"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const claim = JSON.parse(await kubectl(["-n", w.ns, "get", "pvc", "ktf-cache-main", "-o", "json"])) as { status: { phase: string }; metadata: { ownerReferences: { kind: string }[] } };
    expect(claim.status.phase).toBe("Bound");
    expect(claim.metadata.ownerReferences[0]?.kind).toBe("Workspace");
    // The engine's plugin cache went to the volume, and stays there for the next run.
    expect(existsSync(`${cache.hostDir}/plugins`)).toBe(true);
    expect((await w.ktf(["plan"])).code).toBe(0);
  });
});
