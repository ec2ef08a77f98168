import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceFixture } from "../harness/workspace.js";

describe("a large configuration", () => {
  const blob = randomBytes(50 * 1024 * 1024);
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("large", {
      "main.tf": 'output "blob" {\n  value = filesha256("${path.module}/blob.bin")\n}\n',
      "blob.bin": blob,
    });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("goes through whole: 50 MB of incompressible data reach the engine intact", async () => {
    const plan = await w.ktf(["plan"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`+ blob = "${createHash("sha256").update(blob).digest("hex")}"`);
  });
});
