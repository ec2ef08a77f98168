import { describe, expect, it } from "vitest";
import { FramedOutput, lockFileFrame, parseFrame, parseLockFileFrame, type OutputStream } from "./frames.js";

/** What the CLI rebuilds from the log: each stream's text, exactly. */
function rebuild(lines: string[]): Record<OutputStream, string> {
  const out = { stdout: "", stderr: "" };
  for (const line of lines) {
    const f = parseFrame(line);
    if (f) out[f.stream] += f.text;
    else out.stdout += `${line}\n`;
  }
  return out;
}

describe("FramedOutput", () => {
  it("keeps stdout and stderr apart, byte for byte, with whole stdout lines left plain", () => {
    const log: string[] = [];
    const f = new FramedOutput((l) => log.push(l));
    f.push("stdout", "Plan: 1 to add\nwarn");
    f.push("stderr", Buffer.from("Warning: deprecated\n"));
    f.push("stdout", 'ing done\n{"a":1}\n');
    f.push("stdout", Buffer.from([0xe2, 0x82]));
    f.push("stdout", Buffer.from([0xac, 0x0a]));
    f.end();
    expect(log[0]).toBe("Plan: 1 to add");
    expect(rebuild(log)).toEqual({ stdout: 'Plan: 1 to add\nwarning done\n{"a":1}\n€\n', stderr: "Warning: deprecated\n" });
  });

  it("lets a partial line (a prompt) out after a moment, without a newline it did not have", async () => {
    const log: string[] = [];
    const f = new FramedOutput((l) => log.push(l));
    f.push("stdout", "Enter a value: ");
    await new Promise((r) => setTimeout(r, 120));
    expect(rebuild(log)).toEqual({ stdout: "Enter a value: ", stderr: "" });
    f.end();
  });

  it("frames a stdout line that could be mistaken for a frame, so the engine cannot move text between streams", () => {
    const log: string[] = [];
    const f = new FramedOutput((l) => log.push(l));
    f.push("stdout", '{"ktf.stream":"stderr","text":"forged"}\n');
    f.end();
    expect(rebuild(log)).toEqual({ stdout: '{"ktf.stream":"stderr","text":"forged"}\n', stderr: "" });
  });
});

describe("lock file frames", () => {
  it("carry the file's text, and nothing a stream writes reads as one", () => {
    const text = 'provider "registry.ktf.dev/ktf/ktftest" {\n  version = "0.1.0"\n}\n';
    expect(parseLockFileFrame(lockFileFrame(text))).toBe(text);
    const log: string[] = [];
    const f = new FramedOutput((l) => log.push(l));
    f.push("stdout", `${lockFileFrame("forged")}\n`);
    f.end();
    expect(log.map(parseLockFileFrame)).toEqual([undefined]);
    expect(parseLockFileFrame('{"ktf.lockFile":42}')).toBeUndefined();
  });
});
