import { tmpdir } from "node:os";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseFrame } from "../run-log/frames.js";
import { encodeTerminalSize } from "../run-log/terminal-size.js";
import { pollUntil } from "../sleep.js";
import { startEngine } from "./engine.js";

/** What the pod log shows of the terminal, its frames put back together. */
const shownIn = (log: string) =>
  log
    .split("\n")
    .map((line) => parseFrame(line)?.text ?? `${line}\n`)
    .join("");

/**
 * Runs `script` on the engine's terminal and types `input` into it; `{ until }` waits for
 * the terminal to show that text first. Returns the exit code and all that was shown.
 */
async function throughTerminal(script: string, input: (string | Buffer | { until: string })[]): Promise<{ code: number; shown: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let log = "";
  stdout.on("data", (d: Buffer) => (log += d.toString()));
  const engine = startEngine("sh", ["-c", script], { cwd: tmpdir(), env: { PATH: process.env.PATH, SHELL: "/bin/sh" }, terminal: true, stdin, stdout });
  for (const step of input) {
    if (typeof step === "string" || Buffer.isBuffer(step)) stdin.write(step);
    else expect(await pollUntil(5000, 10, () => Promise.resolve(shownIn(log).includes(step.until)))).toBe(true);
  }
  const code = await engine.exited;
  return { code, shown: shownIn(log) };
}

const size = (columns: number, rows: number) => encodeTerminalSize({ columns, rows });

describe("the engine's terminal", () => {
  it("is 200x50 until the CLI sends a size", async () => {
    const { code, shown } = await throughTerminal("read x; stty size", ["\n"]);
    expect(code).toBe(0);
    expect(shown).toContain("50 200");
  });

  it("takes the size the CLI sends, split or not, and passes the keys on without it", async () => {
    const sequence = size(100, 40);
    const { code, shown } = await throughTerminal('read x; stty size; echo "got $x"; read y; stty size', [
      sequence.subarray(0, 5),
      sequence.subarray(5),
      "hello\n",
      { until: "got hello" },
      size(90, 30),
      "\n",
    ]);
    expect(code).toBe(0);
    expect(shown).toMatch(/40 100[^]*got hello[^]*30 90/);
    expect(shown).not.toContain("ktf-size");
  });
});
