import { colorsFor, note, stripAnsi, type Terminal } from "./terminal.js";

/** The runner's own log lines are JSON from the "runner" component; the engine's are text. */
function runnerMessage(line: string): { level: string; msg: string; err?: string } | undefined {
  if (!line.startsWith("{") || !line.includes('"component":"runner"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { component?: string; level?: string; msg?: string; err?: string };
    return parsed.component === "runner" && parsed.msg ? { level: parsed.level ?? "info", msg: parsed.msg, err: parsed.err } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One line of a run's log: the engine's output goes to stdout as the engine wrote it
 * (colours kept only for a terminal); the runner's notes go to stderr, dimmed.
 */
export function renderLogLine(t: Terminal, line: string): void {
  const own = runnerMessage(line);
  if (own) {
    if (own.level === "debug" || own.level === "trace") return;
    note(t, `ktf: ${own.msg}${own.err ? `: ${own.err}` : ""}`);
    return;
  }
  t.stdout.write(`${colorsFor(t, "stdout") ? line : stripAnsi(line)}\n`);
}
