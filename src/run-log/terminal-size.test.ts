import { describe, expect, it } from "vitest";
import { encodeTerminalSize, TerminalInputParser, type TerminalInput, type TerminalSize } from "./terminal-size.js";

type Seen = string | TerminalSize;

/** Feeds the chunks through one parser; bytes as text, adjacent bytes joined. */
function parse(chunks: (string | Buffer)[]): Seen[] {
  const parser = new TerminalInputParser();
  const items: TerminalInput[] = [...chunks.flatMap((c) => parser.push(Buffer.from(c))), parser.end()];
  const seen: Seen[] = [];
  for (const item of items) {
    const last = seen[seen.length - 1];
    if (!Buffer.isBuffer(item)) seen.push(item);
    else if (!item.length) continue;
    else if (typeof last === "string") seen[seen.length - 1] = last + item.toString("latin1");
    else seen.push(item.toString("latin1"));
  }
  return seen;
}

const size = (columns: number, rows: number) => encodeTerminalSize({ columns, rows }).toString("latin1");

describe("terminal size on stdin", () => {
  it("encodes as an OSC-style control, the values bounded to 1..1000", () => {
    expect(size(120, 40)).toBe("\u001b]ktf-size;120;40\u0007");
    expect(size(5000, 0)).toBe("\u001b]ktf-size;1000;1\u0007");
    expect(size(80.6, 24.2)).toBe("\u001b]ktf-size;81;24\u0007");
  });

  it.each<[string, (string | Buffer)[], Seen[]]>([
    ["a size alone", [size(120, 40)], [{ columns: 120, rows: 40 }]],
    ["keys around sizes, in order", [`ab${size(80, 24)}cd${size(100, 30)}\r`], ["ab", { columns: 80, rows: 24 }, "cd", { columns: 100, rows: 30 }, "\r"]],
    ["arrow keys, Alt-keys and other controls untouched", ["\u001b[A\u001bk\u001b]0;title\u0007\u001b\u001b[B"], ["\u001b[A\u001bk\u001b]0;title\u0007\u001b\u001b[B"]],
    ["a lone ESC at a chunk's end, then keys", ["x\u001b", "[A"], ["x\u001b[A"]],
    ["a broken sequence, then a whole one", [`\u001b]ktf-si\u001b]ktf-size;9;9\u0007`], ["\u001b]ktf-si", { columns: 9, rows: 9 }]],
    ["values out of bounds: taken, ignored", [`a\u001b]ktf-size;0;50\u0007\u001b]ktf-size;1001;50\u0007b`], ["ab"]],
    ["five digits: not a sequence", ["\u001b]ktf-size;12345;50\u0007"], ["\u001b]ktf-size;12345;50\u0007"]],
    ["no rows: not a sequence", ["\u001b]ktf-size;80\u0007", "\u001b]ktf-size;80;\u0007"], ["\u001b]ktf-size;80\u0007\u001b]ktf-size;80;\u0007"]],
    ["other bytes inside: not a sequence", ["\u001b]ktf-size;8a;2\u0007", "\u001b]ktf-size;;2\u0007"], ["\u001b]ktf-size;8a;2\u0007\u001b]ktf-size;;2\u0007"]],
    ["unfinished at the end of input: passed on", ["q\u001b]ktf-size;80;2"], ["q\u001b]ktf-size;80;2"]],
    ["bytes that are not text", [Buffer.from([0xff, 0x1b, 0x00, 0xe2, 0x82, 0xac])], ["\u00ff\u001b\u0000\u00e2\u0082\u00ac"]],
  ])("%s", (_name, chunks, expected) => {
    expect(parse(chunks)).toEqual(expected);
  });

  it("finds a sequence split anywhere, across any number of chunks", () => {
    const input = `ab${size(132, 43)}cd`;
    for (let cut = 0; cut <= input.length; cut++) {
      for (let second = cut; second <= input.length; second++) {
        const chunks = [input.slice(0, cut), input.slice(cut, second), input.slice(second)];
        expect(parse(chunks), JSON.stringify(chunks)).toEqual(["ab", { columns: 132, rows: 43 }, "cd"]);
      }
    }
    expect(parse([...input])).toEqual(["ab", { columns: 132, rows: 43 }, "cd"]);
  });
});
