import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceFixture } from "../harness/workspace.js";

const CONFIG = `
resource "terraform_data" "fails" {
  provisioner "local-exec" {
    command = "exit 3"
  }
}
`;

describe("the engine's two streams", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("streams", { "main.tf": CONFIG });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("reach ktf's stdout and stderr as the engine wrote them, not mixed", async () => {
    const apply = await w.ktf(["apply", "-auto-approve", "-no-color"]);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toContain("Plan: 1 to add, 0 to change, 0 to destroy.");
    expect(apply.stdout).not.toContain("Error:");
    expect(apply.stderr).toMatch(/Error: local-exec provisioner error/);
    expect(apply.stderr).not.toContain("Plan: 1 to add");
  });

  it("leave JSON on stdout whole, for a program to read", async () => {
    const validate = await w.ktf(["validate", "-json"]);
    expect(validate.code).toBe(0);
    const parsed = JSON.parse(validate.stdout) as { valid: boolean; format_version: string };
    expect(parsed.valid).toBe(true);
  });
});
