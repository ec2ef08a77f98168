import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../harness/cluster.js";
import { ktfInTerminal } from "../harness/terminal.js";
import { workspaceFixture } from "../harness/workspace.js";

describe("ktf console", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("console", { "main.tf": 'variable "n" {\n  default = 20\n}\n' });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("attaches the terminal to the engine's console in the run pod, its output sealed to this CLI", async () => {
    const session = ktfInTerminal(w.dir, ["console"]);
    try {
      // Keys typed before the console is up wait in the terminal until it reads them.
      session.type("var.n * 1000 + 4242\r");
      await session.shows(/24242/);
      session.type("exit\r");
      expect(await session.exited).toBe(0);
    } finally {
      session.kill();
    }
    const run = (await w.runs())[0];
    expect(run?.spec.interactive).toBe(true);
    expect(run?.status?.phase).toBe("Succeeded");
    // The right to attach was the creator's alone, to this run's pod alone.
    const name = run?.metadata.name ?? "";
    const creator = run?.status?.createdBy?.username ?? "";
    const canI = async (as: string, pod: string) => (await kubectl(["auth", "can-i", "-n", w.ns, "create", `pods/${pod}`, "--subresource=attach", `--as=${as}`]).catch((e: Error) => e.message)).includes("yes");
    expect(creator).not.toBe("");
    expect(await canI(creator, name)).toBe(true);
    expect(await canI(creator, "some-other-pod")).toBe(false);
    expect(await canI("someone-else", name)).toBe(false);
    // What the console showed (it reads the state) is in the pod's log only sealed.
    const raw = await kubectl(["-n", w.ns, "logs", name]);
    expect(raw).toMatch(/^ktf:sealed:1:key:/m);
    expect(raw).not.toContain("24242");
  });
});
