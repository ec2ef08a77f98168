/**
 * GitHub's cap on a check run's output.summary and output.text, in characters. GitHub
 * counts UTF-16 code units, as JavaScript's `length` does.
 */
export const MAX_CHECK_OUTPUT_CHARS = 65_535;

/** Also a cap of GitHub's: the title of a check run's output. */
const MAX_TITLE_CHARS = 255;

/** A check run's `output`, as the checks API takes it. */
export interface CheckOutput {
  title: string;
  /** Markdown. */
  summary: string;
  /** Markdown: the log in a fence. */
  text: string;
}

export interface PlanReport {
  /** What the engine printed (ANSI colours are stripped here). */
  log: string;
  /** Set when the plan failed: the Run's error message. */
  error?: string;
  /** Markdown for the top of the check run, e.g. the workspace and the commit; the title when unset. */
  summary?: string;
  /** Says where the whole log is when the text is cut: "`ktf runs logs team-a/plan-x7k2` shows the whole log". */
  fullLogHint: string;
  /** The title when the caller knows better than the log (counts taken from the saved plan); unset: read from the log. */
  title?: string;
}

/**
 * The check run output of a plan: the title is the plan's "2 to add, 0 to change, 0 to
 * destroy", "No changes" or the error's first line; the text is the log in a fence (diff
 * for a plan, so that additions and removals are coloured), cut at a line within GitHub's cap.
 */
export function planCheckOutput(report: PlanReport): CheckOutput {
  const log = stripAnsi(report.log);
  const title = clip(report.title ?? planTitle(log, report.error), MAX_TITLE_CHARS);
  const summary = clip(report.summary ?? title, MAX_CHECK_OUTPUT_CHARS);
  const failed = report.error !== undefined;
  const text = fencedLog(failed ? log : diffColumns(log), failed ? "text" : "diff", report.fullLogHint);
  return { title, summary, text };
}

/** "2 to add, 0 to change, 0 to destroy", "No changes", the error's first line, or "Planned". */
export function planTitle(log: string, error?: string): string {
  if (error !== undefined) return firstLine(stripAnsi(error)) || "The plan failed";
  const plain = stripAnsi(log);
  const counts = /^Plan: (.+?)\.?\s*$/m.exec(plain);
  if (counts?.[1]) return counts[1];
  if (/^No changes\./m.test(plain)) return "No changes";
  return "Planned";
}

/** Markdown: `log` in a code fence, cut at a line boundary so that the whole fits in `maxChars`. */
export function fencedLog(log: string, language: string, fullLogHint: string, maxChars = MAX_CHECK_OUTPUT_CHARS): string {
  // A fence longer than any run of backticks in the log, so the log cannot close it.
  const longestRun = Math.max(0, ...[...log.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  const open = `${fence}${language}\n`;
  const close = `\n${fence}`;
  const body = log.replace(/\r\n/g, "\n").replace(/\n+$/, "");
  if (open.length + body.length + close.length <= maxChars) return open + body + close;

  const note = `\n\nThe log is cut here, at GitHub's limit of ${maxChars.toLocaleString("en-US")} characters: ${fullLogHint}.`;
  const budget = maxChars - open.length - close.length - note.length;
  return open + headLines(body, budget) + close + note;
}

/** The longest run of whole lines of `text` within `budget` characters (part of the first line when none fits). */
function headLines(text: string, budget: number): string {
  if (budget <= 0) return "";
  const cut = text.lastIndexOf("\n", budget);
  if (cut > 0) return text.slice(0, cut);
  let head = text.slice(0, budget);
  // Never split a surrogate pair: half an emoji is not a character GitHub would accept.
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return head;
}

/**
 * Moves the `+`, `-`, `-/+` and `~` that the engine indents to the first column, as a diff fence
 * needs to colour them; `~` (update in place) becomes `!`, which diff highlighting also colours.
 */
function diffColumns(log: string): string {
  return log.replace(/^([ \t]+)(-\/\+|\+\/-|[-+~])([ \t])/gm, (_m, indent: string, sign: string, space: string) => `${sign === "~" ? "!" : sign}${indent}${space}`);
}

// CSI (colours, cursor moves), OSC (titles, links, ended by BEL or ST), then any other escape
// (ESC 7, ESC ( B: intermediate bytes, then one final byte).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[ -/]*[0-~]/g;

/** The text without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

function firstLine(text: string): string {
  return (text.trim().split(/\r?\n/, 1)[0] ?? "").trim();
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let head = text.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}…`;
}
