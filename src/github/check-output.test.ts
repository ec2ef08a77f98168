import { describe, expect, it } from "vitest";
import { MAX_CHECK_OUTPUT_CHARS, fencedLog, planCheckOutput, planTitle, stripAnsi } from "./check-output.js";

const hint = "`ktf runs logs team-a/plan-x7k2` shows the whole log";

const planLog = [
  "\u001b[0m\u001b[1mnull_resource.a: Refreshing state...\u001b[0m",
  "",
  "Terraform will perform the following actions:",
  "",
  "\u001b[1m  # null_resource.b\u001b[0m will be created",
  "\u001b[32m  +\u001b[0m resource \"null_resource\" \"b\" {",
  "      \u001b[32m+\u001b[0m id = (known after apply)",
  "    }",
  "  ~ resource \"null_resource\" \"c\" {",
  "-/+ resource \"null_resource\" \"d\" {",
  "",
  "\u001b[1mPlan:\u001b[0m 2 to add, 1 to change, 0 to destroy.",
].join("\n");

describe("planTitle", () => {
  it.each([
    ["Plan: 2 to add, 0 to change, 0 to destroy.", undefined, "2 to add, 0 to change, 0 to destroy"],
    ["\u001b[1mPlan:\u001b[0m 1 to import, 2 to add, 0 to change, 1 to destroy.", undefined, "1 to import, 2 to add, 0 to change, 1 to destroy"],
    ["\u001b[32m\u001b[1mNo changes.\u001b[0m Your infrastructure matches the configuration.", undefined, "No changes"],
    ["something odd", undefined, "Planned"],
    ["Plan: 2 to add", "Error: Invalid reference\n\n  on main.tf line 3", "Error: Invalid reference"],
    ["", "\u001b[31m│ Error: Unsupported argument\u001b[0m\n│ more", "│ Error: Unsupported argument"],
    ["", "  \n", "The plan failed"],
  ])("%j (error %j) is %j", (log, error, title) => {
    expect(planTitle(log, error)).toBe(title);
  });
});

describe("stripAnsi", () => {
  it("drops colours, cursor moves, titles and links, and keeps the text", () => {
    expect(stripAnsi("\u001b[1;32mgreen\u001b[0m \u001b[2K\u001b[1Gline \u001b]0;title\u0007\u001b]8;;https://x\u001b\\link\u001b]8;;\u001b\\ \u001b7saved\u001b8 \u001b(Bdone")).toBe("green line link saved done");
  });
});

describe("planCheckOutput", () => {
  it("puts a plan in a diff fence with the signs in the first column", () => {
    const output = planCheckOutput({ log: planLog, fullLogHint: hint, summary: "**team-a/network** at `abc1234`" });
    expect(output.title).toBe("2 to add, 1 to change, 0 to destroy");
    expect(output.summary).toBe("**team-a/network** at `abc1234`");
    expect(output.text).not.toContain("\u001b");
    expect(output.text.split("\n")).toEqual([
      "```diff",
      "null_resource.a: Refreshing state...",
      "",
      "Terraform will perform the following actions:",
      "",
      "  # null_resource.b will be created",
      '+   resource "null_resource" "b" {',
      "+       id = (known after apply)",
      "    }",
      '!   resource "null_resource" "c" {',
      '-/+ resource "null_resource" "d" {',
      "",
      "Plan: 2 to add, 1 to change, 0 to destroy.",
      "```",
    ]);
  });

  it("puts a failed plan's log in a text fence and titles it with the error", () => {
    const output = planCheckOutput({ log: "  + not moved\nError: boom", error: "Error: boom\ndetails", fullLogHint: hint });
    expect(output.title).toBe("Error: boom");
    expect(output.summary).toBe("Error: boom");
    expect(output.text).toBe("```text\n  + not moved\nError: boom\n```");
  });

  it("cuts a 200,000-line plan at a line within GitHub's limit, closes the fence and says where the rest is", () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `  + resource "null_resource" "r${i}" { id = "é€😀${i}" }`);
    const output = planCheckOutput({ log: lines.join("\n"), fullLogHint: hint });
    expect(output.text.length).toBeLessThanOrEqual(MAX_CHECK_OUTPUT_CHARS);
    expect(output.text.length).toBeGreaterThan(MAX_CHECK_OUTPUT_CHARS - 200);
    const textLines = output.text.split("\n");
    expect(textLines[0]).toBe("```diff");
    const noteAt = textLines.indexOf("```");
    expect(textLines.slice(noteAt + 1)).toEqual(["", `The log is cut here, at GitHub's limit of 65,535 characters: ${hint}.`]);
    // Every line kept is whole, emoji included.
    const kept = textLines.slice(1, noteAt);
    kept.forEach((line, i) => expect(line).toBe(`+   resource "null_resource" "r${i}" { id = "é€😀${i}" }`));
    expect(kept.length).toBeGreaterThan(1000);
  });

  it("fits exactly at the limit and is cut one character over it", () => {
    const open = "```text\n";
    const close = "\n```";
    const exact = "x".repeat(MAX_CHECK_OUTPUT_CHARS - open.length - close.length);
    expect(fencedLog(exact, "text", hint)).toBe(open + exact + close);
    expect(fencedLog(`${exact}y`, "text", hint)).toContain("The log is cut here");
  });

  it("cuts a single overlong line inside it without splitting a surrogate pair", () => {
    const text = fencedLog("😀".repeat(40_000), "text", hint);
    expect(text.length).toBeLessThanOrEqual(MAX_CHECK_OUTPUT_CHARS);
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(text).toContain("The log is cut here");
  });

  it("makes a fence the log cannot close", () => {
    expect(fencedLog("a\n```\nb ````` c", "text", hint)).toBe("``````text\na\n```\nb ````` c\n``````");
  });
});
