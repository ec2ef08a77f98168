import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.js";
import { SEALED_CHUNK_BYTES, Sealer, Unsealer, isSealedLine, newSealingKeys } from "./sealed-log.js";

function sealAll(publicKey: string, parts: [("o" | "e"), Buffer][]): string[] {
  const sealer = new Sealer(publicKey);
  return [sealer.header, ...parts.flatMap(([s, b]) => sealer.seal(s, b)), sealer.end()];
}

describe("sealed output", () => {
  const keys = newSealingKeys();
  const secret = Buffer.from('{"tok":{"sensitive":true,"value":"hunter2"}}\n');

  it("is read back whole, stream by stream, by the key's holder alone", () => {
    const big = randomBytes(3 * SEALED_CHUNK_BYTES + 5);
    const lines = sealAll(keys.publicKey, [["o", secret], ["e", Buffer.from("Warning: x\n")], ["o", big]]);
    expect(lines.every(isSealedLine)).toBe(true);
    expect(lines.join("\n")).not.toContain("hunter2");
    const u = new Unsealer(keys.privateKey);
    const out: Record<string, Buffer[]> = { o: [], e: [] };
    for (const line of lines) {
      const r = u.open(line);
      if (r.kind === "data") out[r.stream]?.push(r.bytes);
    }
    expect(Buffer.concat(out.o ?? [])).toEqual(Buffer.concat([secret, big]));
    expect(Buffer.concat(out.e ?? []).toString()).toBe("Warning: x\n");
  });

  it("cannot be read with another key", () => {
    const lines = sealAll(keys.publicKey, [["o", secret]]);
    const other = new Unsealer(newSealingKeys().privateKey);
    other.open(lines[0] ?? "");
    expect(() => other.open(lines[1] ?? "")).toThrow(IntegrityError);
  });

  it.each([
    ["a changed chunk", (l: string[]) => [l[0], (l[1] ?? "").replace(/(:o:.{10})(.)/, (_, a: string, c: string) => a + (c === "A" ? "B" : "A")), l[2]]],
    ["a dropped chunk", (l: string[]) => [l[0], l[2], l[3]]],
    ["a chunk moved to the other stream", (l: string[]) => [l[0], (l[1] ?? "").replace(":o:", ":e:"), l[2]]],
    ["a forged end", (l: string[]) => [l[0], l[1], (l[1] ?? "").replace(":o:", ":x:")]],
    ["a second key line", (l: string[]) => [l[0], l[1], new Sealer(keys.publicKey).header, l[2]]],
  ])("refuses %s", (_, mangle) => {
    const lines = mangle(sealAll(keys.publicKey, [["o", secret], ["o", secret]]));
    const u = new Unsealer(keys.privateKey);
    expect(() => lines.forEach((l) => u.open(l ?? ""))).toThrow(IntegrityError);
  });
});
