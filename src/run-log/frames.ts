import { StringDecoder } from "node:string_decoder";

/**
 * The run pod's log carries the engine's stdout and stderr, and the pod log API mixes a
 * container's two streams into one. So the runner writes whole stdout lines as they are
 * (what `kubectl logs` shows plainly) and everything else, stderr and partial lines, as
 * frames: one JSON line each, naming the stream. The CLI puts each back where it belongs.
 */
export type OutputStream = "stdout" | "stderr";

const PREFIX = '{"ktf.stream":';
/** A partial line (a prompt, progress dots) is not held back longer than this. */
const PARTIAL_FLUSH_MS = 50;
/** Nor held in memory past this size (a large JSON document on one line). */
const PARTIAL_MAX = 64 * 1024;

export function frameLine(stream: OutputStream, text: string): string {
  return `${PREFIX}${JSON.stringify(stream)},"text":${JSON.stringify(text)}}`;
}

export function parseFrame(line: string): { stream: OutputStream; text: string } | undefined {
  if (!line.startsWith(PREFIX)) return undefined;
  try {
    const parsed = JSON.parse(line) as { "ktf.stream"?: unknown; text?: unknown };
    const stream = parsed["ktf.stream"];
    if ((stream !== "stdout" && stream !== "stderr") || typeof parsed.text !== "string") return undefined;
    return { stream, text: parsed.text };
  } catch {
    return undefined;
  }
}

/** Writes two streams into one log, in the order their chunks arrive, as described above. */
export class FramedOutput {
  private readonly decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private partial = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (line: string) => void) {}

  push(stream: OutputStream, chunk: Buffer | string): void {
    const text = typeof chunk === "string" ? chunk : this.decoders[stream].write(chunk);
    if (stream === "stderr") {
      // What stdout had so far goes first: the order of the two is kept.
      this.flushPartial();
      if (text) this.write(frameLine("stderr", text));
      return;
    }
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.write(line.startsWith("{") ? frameLine("stdout", `${line}\n`) : line);
    clearTimeout(this.timer);
    if (this.partial.length > PARTIAL_MAX) this.flushPartial();
    else if (this.partial) this.timer = setTimeout(() => this.flushPartial(), PARTIAL_FLUSH_MS);
  }

  /** Everything held back, written now (the streams ended). */
  end(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.decoders[stream].end();
      if (rest) this.push(stream, rest);
    }
    this.flushPartial();
  }

  private flushPartial(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.partial) return;
    this.write(frameLine("stdout", this.partial));
    this.partial = "";
  }
}

/**
 * The dependency lock file, as `init` or `providers lock` left it in the run pod, for the
 * CLI to write back to the local directory (terraform users commit it). A frame of its own,
 * which no stream's text can be mistaken for: stdout lines that start with `{` are framed.
 */
export const LOCK_FILE = ".terraform.lock.hcl";
const LOCK_PREFIX = '{"ktf.lockFile":';

export function lockFileFrame(text: string): string {
  return `${LOCK_PREFIX}${JSON.stringify(text)}}`;
}

export function parseLockFileFrame(line: string): string | undefined {
  if (!line.startsWith(LOCK_PREFIX)) return undefined;
  try {
    const text = (JSON.parse(line) as { "ktf.lockFile"?: unknown })["ktf.lockFile"];
    return typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}
