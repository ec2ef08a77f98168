import { describe, expect, it } from "vitest";
import { variableChanges, variableHash, type ActualVariable, type DesiredVariable } from "./variables.js";

const TOKEN = "token-1";
const tf = (key: string, value: string, o: Partial<DesiredVariable> = {}): DesiredVariable => ({ key, value, category: "terraform", hcl: false, sensitive: false, ...o });
const actual = (v: DesiredVariable, id: string, o: Partial<ActualVariable> = {}): ActualVariable => ({ id, key: v.key, category: v.category, value: v.sensitive ? null : v.value, hcl: v.hcl, sensitive: v.sensitive, ...o });

describe("variableChanges", () => {
  it("creates what is missing and removes what the spec no longer has", () => {
    const a = tf("a", "1");
    const c = variableChanges([a], [actual(tf("old", "x"), "var-old")], {}, TOKEN);
    expect(c.create).toEqual([a]);
    expect(c.remove.map((r) => r.id)).toEqual(["var-old"]);
    expect(c.hashes).toEqual({ "terraform:a": variableHash(TOKEN, a) });
  });

  it("keeps apart a terraform variable and an environment variable of one name", () => {
    const env: DesiredVariable = { ...tf("A", "1"), category: "env" };
    const c = variableChanges([env], [actual(tf("A", "1"), "var-tf")], {}, TOKEN);
    expect(c.create).toEqual([env]);
    expect(c.remove.map((r) => r.id)).toEqual(["var-tf"]);
  });

  it("puts back a value changed in TFC, and says so", () => {
    const a = tf("a", "1");
    const c = variableChanges([a], [actual(a, "var-a", { value: "edited" })], { "terraform:a": variableHash(TOKEN, a) }, TOKEN);
    expect(c.update).toEqual([{ id: "var-a", variable: a, editedInCloud: true, recreate: false, patch: { value: "1" } }]);
  });

  it("updates a sensitive value only when the spec's changed, which the hash tells", () => {
    const before = tf("s", "old-secret", { sensitive: true });
    const after = tf("s", "new-secret", { sensitive: true });
    const known = { "terraform:s": variableHash(TOKEN, before) };
    expect(variableChanges([before], [actual(before, "var-s")], known, TOKEN).update).toEqual([]);
    expect(variableChanges([after], [actual(before, "var-s")], known, TOKEN).update).toEqual([{ id: "var-s", variable: after, editedInCloud: false, recreate: false, patch: { value: "new-secret" } }]);
  });

  it("never keeps a value in the hashes, and a different token gives different hashes", () => {
    const s = tf("s", "hunter2", { sensitive: true });
    const c = variableChanges([s], [], {}, TOKEN);
    expect(JSON.stringify(c.hashes)).not.toContain("hunter2");
    expect(variableHash("token-2", s)).not.toBe(c.hashes["terraform:s"]);
  });

  it("recreates a sensitive variable made plain: TFC allows no other way", () => {
    const plain = tf("s", "v");
    expect(variableChanges([plain], [actual(tf("s", "v", { sensitive: true }), "var-s")], {}, TOKEN).update[0]?.recreate).toBe(true);
  });

  it("changes flags: hcl and sensitive", () => {
    const a = tf("a", "[1]", { hcl: true });
    expect(variableChanges([a], [actual(tf("a", "[1]"), "var-a")], {}, TOKEN).update).toHaveLength(1);
  });
});
