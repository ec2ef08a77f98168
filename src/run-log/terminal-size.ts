/**
 * `ktf console` and `ktf sh` send the user's keys to a run pod container that has no tty,
 * so Kubernetes' resize channel is not there. The CLI sends the terminal's size in-band on
 * stdin instead, as an OSC-style control that a terminal never sends as input:
 * ESC ] ktf-size ; COLS ; ROWS BEL. The runner takes these out before the engine reads.
 */
export interface TerminalSize {
  columns: number;
  rows: number;
}

const MAX = 1000;
const MAX_DIGITS = 4;
const INTRO = Buffer.from("\u001b]ktf-size;");
const BEL = 0x07;
const SEMICOLON = 0x3b;

export function encodeTerminalSize(size: TerminalSize): Buffer {
  const bound = (n: number) => Math.min(MAX, Math.max(1, Math.round(n)));
  return Buffer.from(`${INTRO.toString()}${bound(size.columns)};${bound(size.rows)}\u0007`);
}

/** What comes out of stdin: bytes for the engine, or a size for its terminal, in order. */
export type TerminalInput = Buffer | TerminalSize;

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;

/**
 * Takes size sequences out of a byte stream that may split them anywhere. Only an exact
 * sequence (1 to 4 digits each) is taken; anything else passes through as it came. A
 * sequence whose values are outside 1..1000 is taken and ignored.
 */
export class TerminalInputParser {
  /** The start of what may be a sequence, held until the next bytes tell. */
  private held: number[] = [];

  push(chunk: Buffer): TerminalInput[] {
    const out: TerminalInput[] = [];
    const pass = (bytes: Buffer) => {
      if (!bytes.length) return;
      const last = out[out.length - 1];
      if (Buffer.isBuffer(last)) out[out.length - 1] = Buffer.concat([last, bytes]);
      else out.push(bytes);
    };
    // Chunk bytes before `from` are passed on or held already.
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] ?? 0;
      if (this.held.length) {
        const step = this.step(byte);
        if (step !== "no") {
          from = i + 1;
          if (step === "more") this.held.push(byte);
          else {
            const size = this.size();
            if (size) out.push(size);
            this.held = [];
          }
          continue;
        }
        // Not a sequence after all: what was held is ordinary input, and this byte starts afresh.
        pass(Buffer.from(this.held));
        this.held = [];
        from = i;
      }
      if (byte === INTRO[0]) {
        pass(chunk.subarray(from, i));
        this.held = [byte];
        from = i + 1;
      }
    }
    pass(chunk.subarray(from));
    return out;
  }

  /** At the end of input, a sequence never finished is ordinary input. */
  end(): Buffer {
    const rest = Buffer.from(this.held);
    this.held = [];
    return rest;
  }

  /** Whether `byte` continues the held sequence, ends it, or shows it is none. */
  private step(byte: number): "more" | "done" | "no" {
    const at = this.held.length;
    if (at < INTRO.length) return byte === INTRO[at] ? "more" : "no";
    const body = this.held.slice(INTRO.length);
    const separator = body.indexOf(SEMICOLON);
    const digits = separator < 0 ? body.length : body.length - separator - 1;
    if (isDigit(byte)) return digits < MAX_DIGITS ? "more" : "no";
    if (byte === SEMICOLON) return separator < 0 && digits > 0 ? "more" : "no";
    if (byte === BEL) return separator >= 0 && digits > 0 ? "done" : "no";
    return "no";
  }

  private size(): TerminalSize | undefined {
    const [columns = 0, rows = 0] = Buffer.from(this.held.slice(INTRO.length)).toString().split(";").map(Number);
    const fits = (n: number) => n >= 1 && n <= MAX;
    return fits(columns) && fits(rows) ? { columns, rows } : undefined;
  }
}
