import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { Writable } from "node:stream";
import type { Workspace } from "../../api/workspace.js";
import type { PackedConfiguration } from "../../archive/pack.js";
import { UsageError } from "../../errors.js";
import { flagName, hasFlag } from "../engine-args.js";
import { announceRun, createRun, exitCodeOf, followRun, type RunRequest } from "../run-session.js";
import type { Session } from "../session.js";
import type { Terminal } from "../output/terminal.js";
import { applyDiff, parseUnifiedDiffs } from "../unified-diff.js";

/** Flags whose forms ktf sets itself when it formats the local files. */
const OUTPUT_FLAGS = new Set(["write", "list", "diff"]);

/** Whether a boolean engine flag is turned off (`-write=false`). */
function turnedOff(args: readonly string[], flag: string): boolean {
  return args.some((a) => flagName(a) === flag && /=(false|0)$/.test(a));
}

/**
 * Whether `fmt` with these arguments would rewrite files, as it does when run locally:
 * not with -check or -write=false, and not on standard input.
 */
export function rewritesFiles(args: readonly string[]): boolean {
  return !hasFlag(args, "check") && !turnedOff(args, "write") && !args.includes("-");
}

/**
 * `ktf fmt`: the engine formats the uploaded copy in the run pod and prints what it
 * changed as diffs; ktf applies those diffs to the files here, so that `ktf fmt` rewrites
 * the local files as `terraform fmt` does. Prints the names of the files it changed.
 */
export async function formatLocalFiles(
  t: Terminal,
  session: Session,
  req: Omit<RunRequest, "command" | "args"> & { configuration: PackedConfiguration },
  ws: Workspace,
  dir: string,
  args: string[],
): Promise<number> {
  const showDiff = hasFlag(args, "diff");
  const list = !turnedOff(args, "list");
  const engineArgs = [...args.filter((a) => !OUTPUT_FLAGS.has(flagName(a))), "-write=false", "-list=false", "-diff"];
  const run = await createRun(session.client, { ...req, command: "fmt", args: engineArgs });
  announceRun(t, run);
  let output = "";
  const captured: Terminal = { ...t, stdout: new Writable({ write: (chunk: Buffer, _enc, done) => ((output += chunk.toString()), done()) }) };
  const outcome = await followRun(session.client, captured, run, { interruptible: true });
  if (outcome.kind === "detached" || outcome.run.status?.phase !== "Succeeded") {
    t.stdout.write(output);
    return outcome.kind === "detached" ? 0 : exitCodeOf(t, outcome.run);
  }
  const base = resolve(dir, ws.spec.workingDir ?? ".");
  for (const diff of parseUnifiedDiffs(output)) {
    const file = resolve(base, diff.path);
    const inside = relative(dir, file);
    if (inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) throw new UsageError(`fmt: ${diff.path} is outside ${dir}; format it from its own directory`);
    const content = await readFile(file, "utf8").catch(() => {
      throw new UsageError(`fmt: the engine formatted ${diff.path}, which is not in ${base}`);
    });
    await writeFile(file, applyDiff(content, diff));
    if (list) t.stdout.write(`${diff.path}\n`);
  }
  if (showDiff) t.stdout.write(output);
  return 0;
}
