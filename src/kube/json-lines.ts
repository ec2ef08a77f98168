import { StringDecoder } from "node:string_decoder";

/**
 * Splits a byte stream into lines. Chunks cut lines (and multi-byte characters)
 * anywhere; `push` returns the complete lines so far, `end` the last partial one. Each
 * chunk is scanned once, so a line of tens of MB costs no more than its length.
 */
export class JsonLineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  /** The pieces of the line not yet ended. */
  private pending: string[] = [];

  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      this.pending.push(text.slice(start, end));
      const line = this.pending.join("");
      this.pending = [];
      if (line.trim() !== "") lines.push(line);
      start = end + 1;
    }
    if (start < text.length) this.pending.push(text.slice(start));
    return lines;
  }

  end(): string | undefined {
    const last = this.pending.join("") + this.decoder.end();
    this.pending = [];
    return last === "" ? undefined : last;
  }
}
