import { mkdir } from "node:fs/promises";
import { isAbsolute, posix, resolve } from "node:path";
import { Parser, extract, type ReadEntry } from "tar";
import { IntegrityError } from "../errors.js";

const ALLOWED_TYPES = new Set(["File", "OldFile", "ContiguousFile", "Directory", "SymbolicLink"]);

/** Why an entry may not be extracted, or undefined when it is safe. */
export function unsafeEntry(entry: { path: string; type: string; linkpath?: string }): string | undefined {
  const path = entry.path;
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) return `absolute path ${path}`;
  if (path.split("/").includes("..")) return `path ${path} leaves the archive`;
  if (!ALLOWED_TYPES.has(entry.type)) return `${path} is a ${entry.type}, not a file, directory or symlink`;
  if (entry.type === "SymbolicLink") {
    const target = posix.normalize(posix.join(posix.dirname(path), entry.linkpath ?? ""));
    if (isAbsolute(entry.linkpath ?? "") || target === ".." || target.startsWith("../")) {
      return `symlink ${path} points outside the archive (${entry.linkpath})`;
    }
  }
  return undefined;
}

async function entriesOf(bytes: Buffer): Promise<{ path: string; type: string; linkpath?: string }[]> {
  const entries: { path: string; type: string; linkpath?: string }[] = [];
  await new Promise<void>((resolvePromise, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (e: ReadEntry) => {
        entries.push({ path: e.path, type: e.type, linkpath: e.linkpath });
        e.resume();
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolvePromise());
    parser.end(bytes);
  });
  return entries;
}

/** Extracts a gzipped tar into `dest`, refusing anything that would land outside it. */
export async function unpackArchive(bytes: Buffer, dest: string): Promise<void> {
  let entries;
  try {
    entries = await entriesOf(bytes);
  } catch (err) {
    throw new IntegrityError(`the configuration archive is not a valid tar.gz: ${(err as Error).message}`);
  }
  for (const e of entries) {
    const problem = unsafeEntry(e);
    if (problem) throw new IntegrityError(`refusing to unpack the configuration: ${problem}`);
  }
  await mkdir(resolve(dest), { recursive: true });
  await new Promise<void>((resolvePromise, reject) => {
    const x = extract({ cwd: dest, strict: true, noMtime: true, preserveOwner: false });
    x.on("error", reject);
    x.on("close", () => resolvePromise());
    x.end(bytes);
  });
}
