import { isSealedLine } from "../seal/sealed-log.js";
import { parseFrame, parseLockFileFrame } from "./frames.js";

/** The runner's own log lines are JSON from the "runner" component; the engine's are text. */
export function runnerMessage(line: string): { level: string; msg: string; err?: string | undefined } | undefined {
  if (!line.startsWith("{") || !line.includes('"component":"runner"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { component?: string; level?: string; msg?: string; err?: string };
    return parsed.component === "runner" && parsed.msg ? { level: parsed.level ?? "info", msg: parsed.msg, err: parsed.err } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A run pod's log as one text, for where a terminal is not (a GitHub check run): the
 * engine's stdout and stderr as they came, the runner's notes as "ktf: ..." lines; sealed
 * output (it carries state values only its CLI may see) and the lock file frame left out.
 */
export function plainRunLog(lines: Iterable<string>): string {
  let out = "";
  for (const line of lines) {
    if (isSealedLine(line) || parseLockFileFrame(line) !== undefined) continue;
    const own = runnerMessage(line);
    if (own) {
      if (own.level !== "debug" && own.level !== "trace") out += `ktf: ${own.msg}${own.err ? `: ${own.err}` : ""}\n`;
      continue;
    }
    const framed = parseFrame(line);
    out += framed ? framed.text : `${line}\n`;
  }
  return out;
}
