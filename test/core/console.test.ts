import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, KTF_BIN } from "../harness/cluster.js";
import { workspaceFixture } from "../harness/workspace.js";

/** Runs `ktf console` behind a real terminal (util-linux `script`), typing `keys` as it goes. */
function consoleSession(cwd: string, keys: { afterMs: number; text: string }[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", `${process.execPath} ${KTF_BIN} console`, "/dev/null"], {
      cwd,
      env: { ...process.env, KUBECONFIG: harness().kubeconfig, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    for (const key of keys) setTimeout(() => child.stdin.write(key.text), key.afterMs);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}

describe("ktf console", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("console", { "main.tf": 'variable "n" {\n  default = 20\n}\n' });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("attaches the terminal to the engine's console in the run pod", async () => {
    // Keys typed before the console is up wait in the terminal until it reads them.
    const r = await consoleSession(w.dir, [
      { afterMs: 1000, text: "var.n * 2 + 2\r" },
      { afterMs: 1500, text: "exit\r" },
    ]);
    expect(r.output).toContain("42");
    expect(r.code).toBe(0);
    const run = (await w.runs())[0];
    expect(run?.spec.interactive).toBe(true);
    expect(run?.status?.phase).toBe("Succeeded");
  });
});
