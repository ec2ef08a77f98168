import { UsageError } from "../errors.js";

/**
 * The engine's `fmt -diff` output: for each file it would change, a unified diff (the
 * engine runs `diff -u --label=old/PATH --label=new/PATH`). ktf reads it to bring the
 * formatting done in the run pod back to the local files.
 */
export interface FileDiff {
  path: string;
  hunks: Hunk[];
}

interface Hunk {
  oldStart: number;
  /** Each line with its line ending, as in the file: the lines the hunk expects and the lines it leaves. */
  oldLines: string[];
  newLines: string[];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function parseUnifiedDiffs(text: string): FileDiff[] {
  const lines = text.split("\n");
  const files: FileDiff[] = [];
  let file: FileDiff | undefined;
  let hunk: Hunk | undefined;
  // The side(s) the last body line went to, for "\ No newline at end of file".
  let last: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("--- old/") && lines[i + 1]?.startsWith("+++ new/")) {
      file = { path: line.slice("--- old/".length), hunks: [] };
      files.push(file);
      hunk = undefined;
      i++;
      continue;
    }
    const header = HUNK_HEADER.exec(line);
    if (header && file) {
      hunk = { oldStart: Number(header[1]), oldLines: [], newLines: [] };
      file.hunks.push(hunk);
      continue;
    }
    if (!hunk) continue;
    const body = `${line.slice(1)}\n`;
    if (line.startsWith(" ")) {
      hunk.oldLines.push(body);
      hunk.newLines.push(body);
      last = [hunk.oldLines, hunk.newLines];
    } else if (line.startsWith("-")) {
      hunk.oldLines.push(body);
      last = [hunk.oldLines];
    } else if (line.startsWith("+")) {
      hunk.newLines.push(body);
      last = [hunk.newLines];
    } else if (line.startsWith("\\")) {
      for (const side of last) side[side.length - 1] = (side[side.length - 1] ?? "").replace(/\n$/, "");
    }
  }
  return files;
}

/** Splits a file into lines that keep their line endings, so that joining gives it back. */
function linesOf(content: string): string[] {
  return content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/**
 * Applies a file's hunks to its content. The content must be what the diff was made from:
 * a file edited since it was uploaded is refused rather than merged.
 */
export function applyDiff(content: string, diff: FileDiff): string {
  const lines = linesOf(content);
  const out: string[] = [];
  let next = 0;
  for (const hunk of diff.hunks) {
    // A hunk that adds to an empty file starts at line 0.
    const start = hunk.oldLines.length === 0 ? hunk.oldStart : hunk.oldStart - 1;
    const found = lines.slice(start, start + hunk.oldLines.length);
    if (start < next || found.join("") !== hunk.oldLines.join("")) {
      throw new UsageError(`${diff.path} changed since it was sent to the cluster; run ktf fmt again`);
    }
    out.push(...lines.slice(next, start), ...hunk.newLines);
    next = start + hunk.oldLines.length;
  }
  out.push(...lines.slice(next));
  return out.join("");
}
