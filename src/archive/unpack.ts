import { mkdir } from "node:fs/promises";
import { posix, resolve } from "node:path";
import { Parser, extract, type ReadEntry } from "tar";
import { IntegrityError, errorMessage } from "../errors.js";

/** What the checks need of a tar entry. */
export interface TarEntry {
  path: string;
  type: string;
  linkpath?: string;
}

/** Hard links, devices, FIFOs and the like are never in an archive that packConfiguration made. */
const ALLOWED_TYPES = new Set(["File", "OldFile", "ContiguousFile", "Directory", "SymbolicLink"]);

function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path);
}

/** The entry's path without "./" and trailing slashes, as the extracted tree would have it. */
function cleanPath(path: string): string {
  return posix.normalize(path).replace(/\/+$/, "");
}

/** Why an entry may not be extracted on its own, or undefined when it is safe. */
export function unsafeEntry(entry: TarEntry): string | undefined {
  const path = entry.path;
  if (isAbsolutePath(path)) return `absolute path ${path}`;
  if (path.split(/[/\\]/).includes("..")) return `path ${path} leaves the archive`;
  if (!ALLOWED_TYPES.has(entry.type)) return `${path} is a ${entry.type}, not a file, directory or symlink`;
  if (entry.type === "SymbolicLink") {
    const linkpath = entry.linkpath ?? "";
    const target = posix.normalize(posix.join(posix.dirname(cleanPath(path)), linkpath));
    if (isAbsolutePath(linkpath) || target === ".." || target.startsWith("../")) {
      return `symlink ${path} points outside the archive (${linkpath})`;
    }
  }
  return undefined;
}

/**
 * Why the archive may not be extracted, or undefined. Beyond each entry's own checks, no
 * entry may sit below a symlink of the archive: a link that stays inside could otherwise
 * be followed by a later entry's path through it, one hop at a time, out of the tree.
 */
export function unsafeArchive(entries: readonly TarEntry[]): string | undefined {
  const links = new Set<string>();
  for (const entry of entries) {
    const problem = unsafeEntry(entry);
    if (problem) return problem;
    const path = cleanPath(entry.path);
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (links.has(parent)) return `${entry.path} goes through the symlink ${parent}`;
    }
    if (entry.type === "SymbolicLink") links.add(path);
    else links.delete(path);
  }
  return undefined;
}

/** The most a configuration may take once unpacked: a gzip bomb stops here, not at a full disk. */
export const MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;

async function entriesOf(bytes: Buffer, maxBytes: number): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  let total = 0;
  await new Promise<void>((resolvePromise, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (e: ReadEntry) => {
        entries.push({ path: e.path, type: e.type, ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}) });
        total += e.size ?? 0;
        if (total > maxBytes) parser.abort(new Error(`it unpacks to more than ${maxBytes} bytes`));
        e.resume();
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolvePromise());
    parser.end(bytes);
  });
  return entries;
}

/**
 * Extracts a gzipped tar into `dest` after checking every entry: no absolute paths, no
 * `..`, no links out of the tree or paths through links, only files, directories and
 * symlinks, at most `maxBytes` in all. Any violation is an IntegrityError and nothing is written.
 */
export async function unpackArchive(bytes: Buffer, dest: string, maxBytes = MAX_UNPACKED_BYTES): Promise<void> {
  let entries: TarEntry[];
  try {
    entries = await entriesOf(bytes, maxBytes);
  } catch (err) {
    throw new IntegrityError(`the configuration archive is not a valid tar.gz: ${errorMessage(err)}`, { cause: err });
  }
  const problem = unsafeArchive(entries);
  if (problem) throw new IntegrityError(`refusing to unpack the configuration: ${problem}`);

  await mkdir(resolve(dest), { recursive: true });
  try {
    await new Promise<void>((resolvePromise, reject) => {
      const x = extract({
        cwd: dest,
        strict: true,
        noMtime: true,
        preserveOwner: false,
      });
      x.on("error", reject);
      x.on("close", () => resolvePromise());
      x.end(bytes);
    });
  } catch (err) {
    throw new IntegrityError(`unpacking the configuration into ${dest} failed: ${errorMessage(err)}`, { cause: err });
  }
}
