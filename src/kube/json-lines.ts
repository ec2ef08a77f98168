import { StringDecoder } from "node:string_decoder";

/**
 * Splits a byte stream into lines. Chunks cut lines (and multi-byte characters)
 * anywhere; `push` returns the complete lines so far, `end` the last partial one.
 */
export class JsonLineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private rest = "";

  push(chunk: Buffer | string): string[] {
    this.rest += typeof chunk === "string" ? chunk : this.decoder.write(chunk);
    const parts = this.rest.split("\n");
    this.rest = parts.pop() ?? "";
    return parts.filter((l) => l.trim() !== "");
  }

  end(): string | undefined {
    const last = this.rest + this.decoder.end();
    this.rest = "";
    return last === "" ? undefined : last;
  }
}
