import { execFile } from "node:child_process";
import { readFile, readlink } from "node:fs/promises";
import { Transform } from "node:stream";
import { promisify } from "node:util";
import { TerminalInputParser, type TerminalInput, type TerminalSize } from "../run-log/terminal-size.js";
import { sleep } from "../sleep.js";

const run = promisify(execFile);

const LOOK_EVERY_MS = 10;
/** script(1) makes the terminal at once; past this something is wrong and sizes are dropped. */
const LOOK_FOR_MS = 10_000;

type Look = { tty: string } | "later" | "never";

/**
 * The terminal script(1) runs the engine on: the slave side that its child's stdin is, once
 * the child has run `wrapper` (whose stty gives the default size) and exec'd the engine.
 * Sizes set before that would be overwritten by the default.
 */
async function lookForTty(scriptPid: number, wrapper: string): Promise<Look> {
  let children: string;
  try {
    children = await readFile(`/proc/${scriptPid}/task/${scriptPid}/children`, "utf8");
  } catch {
    // script has ended, or this kernel does not list children.
    return "never";
  }
  const child = children.trim().split(" ")[0];
  if (!child) return "later";
  try {
    const argv = (await readFile(`/proc/${child}/cmdline`, "utf8")).split("\0");
    if (argv.includes(wrapper)) return "later";
    const tty = await readlink(`/proc/${child}/fd/0`);
    return tty.startsWith("/dev/pts/") ? { tty } : "later";
  } catch {
    // The child is between fork and exec, or has just ended.
    return "later";
  }
}

/**
 * Sets the size of the engine's pseudo-terminal. TIOCSWINSZ on the slave (what `stty -F`
 * does) makes the kernel send SIGWINCH to the engine, which then redraws.
 */
export class PtySize {
  private tty: Promise<string | undefined> | undefined;

  constructor(
    private readonly scriptPid: number,
    private readonly wrapper: string,
    private readonly ended: AbortSignal,
  ) {}

  async apply(size: TerminalSize): Promise<void> {
    this.tty ??= this.find();
    const tty = await this.tty;
    if (!tty || this.ended.aborted) return;
    // The engine may end at any moment: a size it never sees is no error.
    await run("stty", ["-F", tty, "cols", String(size.columns), "rows", String(size.rows)]).catch(() => undefined);
  }

  private async find(): Promise<string | undefined> {
    const deadline = Date.now() + LOOK_FOR_MS;
    while (!this.ended.aborted && Date.now() < deadline) {
      const look = await lookForTty(this.scriptPid, this.wrapper);
      if (look === "never") return undefined;
      if (look !== "later") return look.tty;
      await sleep(LOOK_EVERY_MS, this.ended);
    }
    return undefined;
  }
}

/**
 * The runner's stdin on its way to the engine's terminal: sizes taken out and applied,
 * everything else passed on. Bytes after a size wait until it is applied, so the engine
 * reads them at the size the user had when typing them.
 */
export function terminalInput(applySize: (size: TerminalSize) => Promise<void>): Transform {
  const parser = new TerminalInputParser();
  const forward = async (stream: Transform, items: TerminalInput[]) => {
    for (const item of items) {
      if (Buffer.isBuffer(item)) stream.push(item);
      else await applySize(item);
    }
  };
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      forward(stream, parser.push(chunk)).then(() => done(), done);
    },
    flush(done) {
      const rest = parser.end();
      if (rest.length) stream.push(rest);
      done();
    },
  });
  return stream;
}
