/**
 * Where a reader is in a pod log read with `timestamps=true`, so that a reconnect (which
 * can only ask for "since this second") delivers no line twice and skips none.
 */
export class LogCursor {
  private last?: bigint;
  /** How many delivered lines carried exactly `last`. */
  private atLast = 0;
  private lastText?: string;
  /** Lines of the current pass that carried `last`, compared against atLast. */
  private seenThisPass = 0;

  /** Call when a new request starts: its lines are matched against what was delivered. */
  restart(): void {
    this.seenThisPass = 0;
  }

  /** The `sinceTime` for a reconnect: the last delivered timestamp, cut to the second. */
  sinceTime(): string | undefined {
    if (!this.lastText) return undefined;
    return this.lastText.replace(/\.\d+Z$/, "Z");
  }

  /** Splits "<timestamp> <text>" and says whether the line is new. */
  accept(raw: string): { deliver: boolean; text: string } {
    const space = raw.indexOf(" ");
    const stamp = space > 0 ? raw.slice(0, space) : raw;
    const text = space > 0 ? raw.slice(space + 1) : "";
    const ts = parseTimestamp(stamp);
    if (ts === undefined) return { deliver: true, text: raw };
    if (this.last !== undefined && ts < this.last) return { deliver: false, text };
    if (this.last !== undefined && ts === this.last) {
      this.seenThisPass++;
      if (this.seenThisPass <= this.atLast) return { deliver: false, text };
      this.atLast++;
      return { deliver: true, text };
    }
    this.last = ts;
    this.lastText = stamp;
    this.atLast = 1;
    this.seenThisPass = 1;
    return { deliver: true, text };
  }
}

/** RFC 3339 with up to nine fractional digits, as nanoseconds since the epoch. */
export function parseTimestamp(text: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(seconds)) return undefined;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}
