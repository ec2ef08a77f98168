import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { KtfError } from "../errors.js";

const run = promisify(execFile);

export interface EngineProcess {
  /** Resolves with the engine's exit code (128 + signal number when a signal ended it). */
  exited: Promise<number>;
  /** Asks the engine to stop the way Ctrl-C does: it finishes the current step, releases the lock and writes state. */
  interrupt(): void;
  kill(): void;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * Starts the engine with the runner's own stdio, so that its output reaches the pod log
 * byte for byte and unbuffered (and a terminal, for `console`).
 */
export function startEngine(binary: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; stdin: boolean }): EngineProcess {
  const child = spawn(binary, args, { cwd: options.cwd, env: options.env, stdio: [options.stdin ? "inherit" : "ignore", "inherit", "inherit"] });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", (err) => reject(new KtfError(`cannot start ${binary}: ${err.message}`)));
    child.once("exit", (code, signal) => resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 1)));
  });
  return {
    exited,
    interrupt: () => child.kill("SIGINT"),
    kill: () => child.kill("SIGKILL"),
  };
}

/** Runs the engine to completion and returns its stdout (for `show -json`, `version -json`). */
export async function engineOutput(binary: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<string> {
  const { stdout } = await run(binary, args, { cwd: options.cwd, env: options.env, maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/** The engine's version ("1.10.10"), read from `<engine> version -json`. */
export async function engineVersion(binary: string, env: NodeJS.ProcessEnv): Promise<string> {
  const out = await engineOutput(binary, ["version", "-json"], { cwd: "/", env });
  return (JSON.parse(out) as { terraform_version: string }).terraform_version;
}

/** Runs the engine with its output (stdout and stderr interleaved) captured. */
export function engineResult(binary: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", (err) => reject(new KtfError(`cannot start ${binary}: ${err.message}`)));
    child.once("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
