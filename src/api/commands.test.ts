import { describe, expect, it } from "vitest";
import { DEFAULT_PRIVILEGED_COMMANDS, isInteractive, isPrivileged, sealsOutput, stateAccess } from "./commands.js";

describe("sh", () => {
  it("is privileged even where a workspace's list, made before sh existed, does not name it", () => {
    const oldList = DEFAULT_PRIVILEGED_COMMANDS.filter((c) => c !== "sh");
    expect(isPrivileged(oldList, "sh", ["--", "uname"])).toBe(true);
    expect(isPrivileged([], "sh", [])).toBe(true);
    expect(isPrivileged([], "plan", [])).toBe(false);
  });

  it("may write state, has its output sealed, and attaches a terminal only without a command", () => {
    expect(stateAccess("sh", [])).toBe("write");
    expect(sealsOutput("sh", ["uname"])).toBe(true);
    expect(sealsOutput("console", [])).toBe(true);
    expect(isInteractive("sh", [])).toBe(true);
    expect(isInteractive("sh", ["uname"])).toBe(false);
    expect(isInteractive("console", [])).toBe(true);
    expect(isInteractive("plan", [])).toBe(false);
  });
});
