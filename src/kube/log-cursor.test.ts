import { describe, expect, it } from "vitest";
import { LogCursor, parseTimestamp } from "./log-cursor.js";

function read(cursor: LogCursor, lines: string[]): string[] {
  cursor.restart();
  return lines.map((l) => cursor.accept(l)).filter((r) => r.deliver).map((r) => r.text);
}

describe("LogCursor", () => {
  it("delivers every line once across a reconnect that repeats the last second", () => {
    const c = new LogCursor();
    expect(read(c, ["2026-01-01T00:00:01.5Z a", "2026-01-01T00:00:02.1Z b", "2026-01-01T00:00:02.1Z c"])).toEqual(["a", "b", "c"]);
    expect(c.sinceTime()).toBe("2026-01-01T00:00:02Z");
    // The reconnect starts at the second: it repeats b and c, then brings d and a same-time e.
    expect(
      read(c, ["2026-01-01T00:00:02.1Z b", "2026-01-01T00:00:02.1Z c", "2026-01-01T00:00:02.1Z d", "2026-01-01T00:00:03Z e"]),
    ).toEqual(["d", "e"]);
  });

  it("compares timestamps by value, not by text", () => {
    const c = new LogCursor();
    read(c, ["2026-01-01T00:00:02.1Z a"]);
    expect(read(c, ["2026-01-01T00:00:02.100000000Z a", "2026-01-01T00:00:02.09Z old", "2026-01-01T00:00:02.2Z b"])).toEqual(["b"]);
  });

  it("keeps empty lines and lines without a timestamp", () => {
    const c = new LogCursor();
    expect(read(c, ["2026-01-01T00:00:01Z ", "no stamp"])).toEqual(["", "no stamp"]);
  });
});

describe("parseTimestamp", () => {
  it("reads nanoseconds", () => {
    expect(parseTimestamp("1970-01-01T00:00:01.000000002Z")).toBe(1_000_000_002n);
    expect(parseTimestamp("nope")).toBeUndefined();
  });
});
