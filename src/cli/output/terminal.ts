import type { Readable, Writable } from "node:stream";
import type { TerminalSize } from "../../run-log/terminal-size.js";

/**
 * The streams and environment a CLI invocation works with; tests pass their own. A
 * terminal's stdout has its size and emits "resize" when it changes, as Node's does.
 */
export interface Terminal {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The size of the terminal that stdout is, if it is one. */
export function terminalSize(t: Terminal): TerminalSize | undefined {
  const { isTTY, columns, rows } = t.stdout;
  return isTTY && columns && rows ? { columns, rows } : undefined;
}

// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Colour only for a terminal, and never when NO_COLOR is set (no-color.org). */
export function colorsFor(t: Terminal, stream: "stdout" | "stderr" = "stderr"): boolean {
  return Boolean(t[stream].isTTY) && t.env.NO_COLOR === undefined && t.env.TERM !== "dumb";
}

function paint(code: string) {
  return (on: boolean, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
}

export const style = {
  bold: paint("1"),
  dim: paint("2"),
  red: paint("31"),
  green: paint("32"),
  yellow: paint("33"),
};

/** Human notes from ktf itself go to stderr so that stdout carries only the engine's output. */
export function note(t: Terminal, text: string): void {
  t.stderr.write(`${style.dim(colorsFor(t), text)}\n`);
}

export function warn(t: Terminal, text: string): void {
  t.stderr.write(`${style.yellow(colorsFor(t), text)}\n`);
}
