import { IntegrityError } from "../../errors.js";
import { Unsealer, isSealedLine } from "../../seal/sealed-log.js";
import { parseFrame, parseLockFileFrame, type OutputStream } from "../../run-log/frames.js";
import { runnerMessage } from "../../run-log/plain-text.js";
import { colorsFor, note, stripAnsi, type Terminal } from "./terminal.js";

/**
 * A run's log as the user sees it: the engine's stdout to stdout and its stderr to stderr,
 * as the engine wrote them (colours kept only for a terminal); the runner's notes go to
 * stderr, dimmed; the lock file the runner reports goes to `onLockFile`. Output
 * sealed to this CLI's key is opened, stdout to stdout and stderr to stderr; without the
 * key it is not shown, and a line that does not authenticate stops the output.
 */
export class RunLogRenderer {
  private readonly unsealer?: Unsealer;
  private saidSealed = false;
  private broken = false;

  constructor(
    private readonly t: Terminal,
    private readonly run: string,
    privateKey?: string,
    private readonly onLockFile?: (text: string) => void,
  ) {
    if (privateKey) this.unsealer = new Unsealer(privateKey);
  }

  line(line: string): void {
    if (isSealedLine(line)) return this.sealed(line);
    const own = runnerMessage(line);
    if (own) {
      if (own.level === "debug" || own.level === "trace") return;
      note(this.t, `ktf: ${own.msg}${own.err ? `: ${own.err}` : ""}`);
      return;
    }
    const lockFile = parseLockFileFrame(line);
    if (lockFile !== undefined) return this.onLockFile?.(lockFile);
    const framed = parseFrame(line);
    if (framed) return this.write(framed.stream, framed.text);
    this.write("stdout", `${line}\n`);
  }

  private write(out: OutputStream, text: string): void {
    this.t[out].write(colorsFor(this.t, out) ? text : stripAnsi(text));
  }

  private sealed(line: string): void {
    if (!this.unsealer) {
      if (!this.saidSealed) note(this.t, `ktf: the output of run ${this.run} carries the state's values, so it is sealed to the ktf that started it, and only that one shows it`);
      this.saidSealed = true;
      return;
    }
    if (this.broken) return;
    try {
      const opened = this.unsealer.open(line);
      if (opened.kind !== "data") return;
      this.write(opened.stream === "o" ? "stdout" : "stderr", opened.bytes.toString("utf8"));
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      this.broken = true;
      note(this.t, `ktf: the sealed output of run ${this.run} was tampered with (${err.message}); the rest is not shown`);
    }
  }
}
