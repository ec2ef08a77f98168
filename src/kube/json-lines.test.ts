import { describe, expect, it } from "vitest";
import { JsonLineSplitter } from "./json-lines.js";

describe("JsonLineSplitter", () => {
  it("joins lines cut across chunks, even inside a multi-byte character", () => {
    const s = new JsonLineSplitter();
    const bytes = Buffer.from('{"a":"é"}\n{"b":2}\n{"c"');
    const cut = bytes.indexOf(0xa9); // the second byte of é
    expect(s.push(bytes.subarray(0, cut))).toEqual([]);
    expect(s.push(bytes.subarray(cut))).toEqual(['{"a":"é"}', '{"b":2}']);
    expect(s.push(":3}\n")).toEqual(['{"c":3}']);
    expect(s.end()).toBeUndefined();
  });

  it("keeps a last line without a newline for end()", () => {
    const s = new JsonLineSplitter();
    expect(s.push("partial")).toEqual([]);
    expect(s.end()).toBe("partial");
  });
});

describe("JsonLineSplitter on a long line", () => {
  it("delivers a line of MBs cut into small chunks whole, once", () => {
    const s = new JsonLineSplitter();
    const line = "x".repeat(4 * 1024 * 1024);
    const text = `${line}\nnext\n`;
    const out: string[] = [];
    for (let i = 0; i < text.length; i += 1000) out.push(...s.push(text.slice(i, i + 1000)));
    expect(out).toHaveLength(2);
    expect(out[0]?.length).toBe(line.length);
    expect(out[1]).toBe("next");
  });
});
