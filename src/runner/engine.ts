import { spawn, execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { promisify } from "node:util";
import { KtfError } from "../errors.js";
import type { Sealer, Stream } from "../seal/sealed-log.js";
import { FramedOutput, type OutputStream } from "../run-log/frames.js";
import { PtySize, terminalInput } from "./pty-size.js";

const run = promisify(execFile);

export interface EngineProcess {
  /** Resolves with the engine's exit code (128 + signal number when a signal ended it). */
  exited: Promise<number>;
  /** Asks the engine to stop the way Ctrl-C does: it finishes the current step, releases the lock and writes state. */
  interrupt(): void;
  kill(): void;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** A word for sh -c, whatever it holds. */
const shellWord = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;

export interface EngineOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  terminal: boolean;
  sealer?: Sealer;
  /** The runner's own streams unless given (tests give theirs). */
  stdin?: Readable;
  stdout?: Writable;
  /** Sees the engine's output as text too (the plan summaries it prints, its errors). */
  onOutput?: (stream: OutputStream, text: string) => void;
}

/**
 * Starts the engine. Its two streams reach the pod log apart (src/run-log/frames.ts), or
 * sealed (src/seal/). With `terminal` (console) it gets a pseudo-terminal of its own, made
 * by util-linux's script(1), fed from the runner's stdin: what it prints, the echo of what
 * is typed included, is sealed like any output that shows the state's values, so neither
 * the pod log nor anyone attached reads it. The terminal's size follows the sizes the CLI
 * sends on stdin (src/run-log/terminal-size.ts).
 */
export function startEngine(binary: string, args: readonly string[], options: EngineOptions): EngineProcess {
  const { sealer } = options;
  const stdout = options.stdout ?? process.stdout;
  // A pseudo-terminal with no terminal behind it has no size: give it one until the CLI sends its own.
  const wrapper = `stty cols 200 rows 50 2>/dev/null; exec ${[binary, ...args].map(shellWord).join(" ")}`;
  const [command, argv] = options.terminal ? ["script", ["-qfec", wrapper, "/dev/null"]] : [binary, args];
  const child = spawn(command, argv, { cwd: options.cwd, env: options.env, stdio: [options.terminal ? "pipe" : "ignore", "pipe", "pipe"] });
  if (options.terminal && child.stdin && child.pid !== undefined) {
    const ended = new AbortController();
    child.once("exit", () => ended.abort());
    const pty = new PtySize(child.pid, wrapper, ended.signal);
    // Keys typed after the engine ended have nowhere to go; that must not end the runner.
    child.stdin.on("error", () => undefined);
    (options.stdin ?? process.stdin).pipe(terminalInput((size) => pty.apply(size))).pipe(child.stdin);
  }
  const sealed = sealer ? sealOutput(child, sealer, stdout) : frameOutput(child, stdout, options.onOutput);
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (err) => reject(new KtfError(`cannot start ${binary}: ${err.message}`)));
    child.once("exit", (code, signal) => resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 1)));
  }).then(async (code) => {
    await sealed;
    return code;
  });
  return {
    exited,
    interrupt: () => child.kill("SIGINT"),
    kill: () => child.kill("SIGKILL"),
  };
}

/** Runs the engine to completion and returns its stdout (for `show -json`, `version -json`). */
export async function engineOutput(binary: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<string> {
  const { stdout } = await run(binary, args, { cwd: options.cwd, env: options.env, maxBuffer: 256 * 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
  return stdout;
}

/** The engine's version ("1.10.10"), read from `<engine> version -json`. */
export async function engineVersion(binary: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  const out = await engineOutput(binary, ["version", "-json"], { cwd: "/", env, ...(signal ? { signal } : {}) });
  return (JSON.parse(out) as { terraform_version: string }).terraform_version;
}

/** Runs the engine with its output captured, both streams in the order they came. */
export function engineResult(binary: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; signal?: AbortSignal }): Promise<{ code: number; output: [OutputStream, Buffer][] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], ...(options.signal ? { signal: options.signal } : {}) });
    const output: [OutputStream, Buffer][] = [];
    child.stdout.on("data", (d: Buffer) => output.push(["stdout", d]));
    child.stderr.on("data", (d: Buffer) => output.push(["stderr", d]));
    child.once("error", (err) => reject(new KtfError(`cannot start ${binary}: ${err.message}`)));
    child.once("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Writes captured or live output into the pod log, each stream kept apart. */
export function writeFramed(out: Writable, chunks: Iterable<[OutputStream, Buffer | string]>): void {
  const framed = new FramedOutput((line) => out.write(`${line}\n`));
  for (const [stream, chunk] of chunks) framed.push(stream, chunk);
  framed.end();
}

/** Frames both of the child's streams, as they come, into `out`; resolves once both ended. `onOutput` sees their text too. */
async function frameOutput(child: ChildProcess, out: Writable, onOutput?: (stream: OutputStream, text: string) => void): Promise<void> {
  const framed = new FramedOutput((line) => out.write(`${line}\n`));
  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  const pump = async (source: Readable | null, stream: OutputStream) => {
    if (!source) return;
    for await (const chunk of source) {
      framed.push(stream, chunk as Buffer);
      onOutput?.(stream, decoders[stream].write(chunk as Buffer));
    }
  };
  await Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  framed.end();
}

/** Seals both of the child's streams, as they come, into `out`; resolves once both ended and the end mark is written. */
async function sealOutput(child: ChildProcess, sealer: Sealer, out: Writable): Promise<void> {
  const write = async (lines: string[]) => {
    if (lines.length && !out.write(`${lines.join("\n")}\n`)) await once(out, "drain");
  };
  await write([sealer.header]);
  // One chain of writes keeps the chunks in the order they were read, across both streams.
  let chain = Promise.resolve();
  const pump = async (source: Readable | null, stream: Stream) => {
    if (!source) return;
    for await (const chunk of source) {
      chain = chain.then(() => write(sealer.seal(stream, chunk as Buffer)));
      await chain;
    }
  };
  await Promise.all([pump(child.stdout, "o"), pump(child.stderr, "e")]);
  await chain;
  await write([sealer.end()]);
}
