import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { workspaceFixture } from "../harness/workspace.js";

const UNFORMATTED = 'resource "terraform_data" "a" {\ninput="x"\n    triggers_replace=["y"]\n}\n';
const FORMATTED = 'resource "terraform_data" "a" {\n  input            = "x"\n  triggers_replace = ["y"]\n}\n';
const TIDY = 'output "o" {\n  value = terraform_data.a.output\n}\n';

/** `ktf fmt` formats in the run pod and rewrites the files here, as `terraform fmt` does. */
describe("ktf fmt", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  const local = (path: string) => readFile(join(w.dir, path), "utf8");
  beforeAll(async () => {
    w = await workspaceFixture("fmt", { "main.tf": UNFORMATTED, "outputs.tf": TIDY, "sub/nested.tf": UNFORMATTED });
    // HCL variables reach other commands as a tfvars file ktf writes; fmt must not see it.
    const variables = [{ name: "a", value: "[1]", hcl: true }, { name: "much_longer_name", value: "{}", hcl: true }];
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec: { variables } });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("-check lists what is not formatted, exits 3, and changes nothing", async () => {
    const r = await w.ktf(["fmt", "-check"]);
    expect(r.stdout.trim()).toBe("main.tf");
    expect(r.code).toBe(3);
    expect(await local("main.tf")).toBe(UNFORMATTED);
  });

  it("rewrites the local files the engine formatted, and lists them", async () => {
    const r = await w.ktf(["fmt"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("main.tf\n");
    expect(await local("main.tf")).toBe(FORMATTED);
    expect(await local("outputs.tf")).toBe(TIDY);
    expect(await local("sub/nested.tf")).toBe(UNFORMATTED);
  });

  it("-recursive -diff reaches into directories and shows the diff too", async () => {
    const r = await w.ktf(["fmt", "-recursive", "-diff"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("sub/nested.tf\n");
    expect(r.stdout).toContain('+  input            = "x"');
    expect(await local("sub/nested.tf")).toBe(FORMATTED);
    expect((await w.ktf(["fmt", "-check", "-recursive"])).code).toBe(0);
  });
});
