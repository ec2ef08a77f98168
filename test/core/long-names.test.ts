import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configDir } from "../harness/workspace.js";
import { ktf, testNamespace, waitFor } from "../harness/cluster.js";

/** 70 characters: longer than a label value may be (63), as a Kubernetes name may be. */
const NAME = `w-${"long".repeat(17)}`;

describe("a workspace whose name is longer than a label value", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let cfg: Awaited<ReturnType<typeof configDir>>;
  beforeAll(async () => {
    ns = await testNamespace("longname");
    cfg = await configDir({ "main.tf": 'resource "terraform_data" "x" {\n  input = "x"\n}\noutput "x" {\n  value = terraform_data.x.output\n}\n' });
  });
  afterAll(async () => {
    await cfg.remove();
    await ns.remove();
  });

  it("runs like any other", async () => {
    expect(NAME.length).toBe(70);
    const created = await ktf(["workspace", "new", NAME, "-n", ns.name], { cwd: cfg.dir });
    expect(created.code, created.stderr).toBe(0);
    const apply = await ktf(["apply", "-auto-approve"], { cwd: cfg.dir });
    expect(apply.code, apply.stderr).toBe(0);
    const output = await ktf(["output", "x"], { cwd: cfg.dir });
    expect(output.stdout.trim()).toBe('"x"');
    // The operator records the version as soon as it sees the write.
    await waitFor(async () => /^1 \(current\)/m.test((await ktf(["state", "versions"], { cwd: cfg.dir })).stdout), 30_000, "version 1 in the history");
  });
});
