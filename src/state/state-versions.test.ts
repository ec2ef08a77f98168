import { describe, expect, it } from "vitest";
import { versionAnnotations, versionFromAnnotations, versionsToPrune, type StateVersion } from "./state-versions.js";

const version = (serial: number, daysAgo: number, name = `v${serial}`): StateVersion => ({
  name,
  serial,
  lineage: "L",
  digest: "sha256:x",
  size: 1,
  chunks: 1,
  written: new Date(Date.UTC(2026, 0, 31) - daysAgo * 86_400_000).toISOString(),
});
const now = new Date(Date.UTC(2026, 0, 31));
const serials = (list: StateVersion[]) => list.map((v) => v.serial).sort((a, b) => a - b);

describe("state version retention", () => {
  const versions = [version(1, 40), version(2, 30), version(3, 20), version(4, 10), version(5, 0)];
  it.each([
    ["keeps the newest N", { keep: 3 }, [1, 2]],
    ["keeps all within N", { keep: 10 }, []],
    ["drops what is older than the age", { keep: 10, maxAgeDays: 25 }, [1, 2]],
    ["keeps the current version whatever its age", { keep: 2, current: "v1" }, [2, 3]],
    ["keeps the newest even when it is too old", { keep: 10, maxAgeDays: 1, now: new Date(Date.UTC(2026, 5, 1)) }, [1, 2, 3, 4]],
  ])("%s", (_, o, pruned) => {
    expect(serials(versionsToPrune(versions, { now, ...o }))).toEqual(pruned);
  });

  it("reads back what it annotates, and nothing from other annotations", () => {
    const v = { ...version(3, 0), run: "r", user: "u" };
    expect(versionFromAnnotations(versionAnnotations(v))).toEqual(v);
    expect(versionFromAnnotations({ "ktf.dev/state-serial": "3" })).toBeUndefined();
  });
});
