import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyDiff, parseUnifiedDiffs } from "./unified-diff.js";

const dir = mkdtempSync(join(tmpdir(), "ktf-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the engine prints for one file: GNU diff, called as the engine calls it. */
function engineDiff(path: string, before: string, after: string): string {
  writeFileSync(join(dir, "a"), before);
  writeFileSync(join(dir, "b"), after);
  return spawnSync("diff", [`--label=old/${path}`, `--label=new/${path}`, "-u", join(dir, "a"), join(dir, "b")], { encoding: "utf8" }).stdout;
}

const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join("");

const CASES: [string, string, string][] = [
  ["one changed line", 'resource "a" "b" {\n  x=1\n}\n', 'resource "a" "b" {\n  x = 1\n}\n'],
  ["hunks far apart", many(40, (i) => (i === 2 || i === 35 ? `a${i}=1\n` : `line ${i}\n`)), many(40, (i) => (i === 2 || i === 35 ? `a${i} = 1\n` : `line ${i}\n`))],
  ["a missing final newline added", "x=1", "x = 1\n"],
  ["no final newline on either side", "a\nx=1", "a\nx = 1"],
  ["lines removed and added", "a\n\n\n\nb\n", "a\n\nb\nc\n"],
  ["an empty file filled", "", "x = 1\n"],
  ["carriage returns kept", "a=1\r\nb=2\r\n", "a = 1\r\nb=2\r\n"],
];

describe("unified diffs from the engine's fmt -diff", () => {
  it.each(CASES)("%s", (_what, before, after) => {
    const files = parseUnifiedDiffs(engineDiff("dir/main.tf", before, after));
    expect(files.map((f) => f.path)).toEqual(["dir/main.tf"]);
    expect(applyDiff(before, files[0]!)).toBe(after);
  });

  it("reads several files from one output, with the engine's other lines around them", () => {
    const text = `${engineDiff("a.tf", "x=1\n", "x = 1\n")}${engineDiff("m/b.tf", "y=2\n", "y = 2\n")}`;
    expect(parseUnifiedDiffs(`${text}\n`).map((f) => f.path)).toEqual(["a.tf", "m/b.tf"]);
  });

  it("refuses a file that changed since the diff was made", () => {
    const [diff] = parseUnifiedDiffs(engineDiff("main.tf", "a\nx=1\n", "a\nx = 1\n"));
    expect(() => applyDiff("a\nx=2\n", diff!)).toThrow("main.tf changed since it was sent to the cluster");
  });
});
