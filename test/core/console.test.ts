import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

  it("attaches the terminal to the engine's console in the run pod", async () => {
    const session = ktfInTerminal(w.dir, ["console"]);
    try {
      // Keys typed before the console is up wait in the terminal until it reads them.
      session.type("var.n * 2 + 2\r");
      await session.shows(/42/);
      session.type("exit\r");
      expect(await session.exited).toBe(0);
    } finally {
      session.kill();
    }
    const run = (await w.runs())[0];
    expect(run?.spec.interactive).toBe(true);
    expect(run?.status?.phase).toBe("Succeeded");
  });
});
