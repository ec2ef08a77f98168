import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StateStore } from "../../src/state/state-store.js";
import { workspaceFixture } from "../harness/workspace.js";

/** 38 MiB of random bytes: in base64, an output of 50 MB that does not compress. */
const blob = randomBytes(38 * 1024 * 1024);
const CONFIG = `
variable "tick" {
  type    = string
  default = "1"
}
resource "terraform_data" "tick" {
  input = var.tick
}
output "blob" {
  value = filebase64("\${path.module}/blob.bin")
}
`;

describe("a state of 50 MB", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("bigstate", { "main.tf": CONFIG, "blob.bin": blob });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  const timed = async (what: string, args: string[]) => {
    const t0 = Date.now();
    const r = await w.ktf(args);
    console.log(`50 MB state: ${what} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  };

  it("survives apply, plan and apply, and state pull returns it byte for byte", { timeout: 600_000 }, async () => {
    const first = await timed("the first apply", ["apply", "-auto-approve"]);
    expect(first.code, first.stderr).toBe(0);
    const plan = await timed("the plan", ["plan", "-detailed-exitcode"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/No changes/);
    const second = await timed("the second apply", ["apply", "-auto-approve", "-var", "tick=2"]);
    expect(second.code, second.stderr).toBe(0);

    const stored = await new StateStore(w.client, { namespace: w.ns, suffix: "main" }).read();
    expect(stored?.length).toBeGreaterThan(50_000_000);
    const state = JSON.parse(stored?.toString() ?? "{}") as { serial: number; outputs: { blob: { value: string } } };
    expect(createHash("sha256").update(Buffer.from(state.outputs.blob.value, "base64")).digest("hex")).toBe(createHash("sha256").update(blob).digest("hex"));

    const pull = await timed("state pull", ["state", "pull"]);
    expect(pull.code, pull.stderr).toBe(0);
    // The engine prints the state with a newline after it, as it does locally.
    expect(createHash("sha256").update(pull.stdout).digest("hex")).toBe(createHash("sha256").update(`${stored?.toString() ?? ""}\n`).digest("hex"));
  });
});
