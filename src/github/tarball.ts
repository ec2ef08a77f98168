import { mkdtemp, readdir, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { IntegrityError, KtfError, UsageError } from "../errors.js";
import { localModuleCalls } from "../archive/module-sources.js";
import { packConfiguration, type PackOptions, type PackedConfiguration } from "../archive/pack.js";
import { MAX_UNPACKED_BYTES, unpackArchive } from "../archive/unpack.js";

export interface TarballOptions extends PackOptions {
  /** The most the tarball may unpack to (default 2 GiB). */
  maxUnpackedBytes?: number;
  /** Where the temporary checkout goes (default the OS's temp directory). */
  tmpDir?: string;
}

/**
 * Turns GitHub's tarball of a commit (one top directory, `owner-repo-sha/`) into the archive
 * the CLI would make in `workingDir` of a checkout of that commit: packConfiguration runs on
 * the unpacked tree, so .terraformignore and local modules outside the directory come out
 * the same. The tarball is checked before anything is written (no absolute paths, no `..`,
 * no links out of the tree, only files, directories and symlinks, at most
 * `maxUnpackedBytes`), and no local module may reach outside the repository. The
 * temporary tree is removed in every case.
 */
export async function configurationFromTarball(tarball: Buffer, workingDir: string, options: TarballOptions = {}): Promise<PackedConfiguration> {
  const dir = repositoryDir(workingDir);
  const scratch = await mkdtemp(join(options.tmpDir ?? tmpdir(), "ktf-tarball-"));
  try {
    await unpack(tarball, scratch, options.maxUnpackedBytes ?? MAX_UNPACKED_BYTES);
    const top = await topDirectory(scratch);
    const configDir = join(top, dir);
    const info = await stat(configDir).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`the repository has no directory ${dir || "."} at this commit: check the workspace's workingDir`);
    await checkModulesStayInside(top, configDir);
    // Rooted at the repository's top: paths in the archive are the repository's.
    return await packConfiguration(configDir, { ...options, root: top }).catch((err: unknown) => {
      // Name paths as they are in the repository, not in the temporary tree.
      if (err instanceof UsageError) throw new UsageError(err.message.split(top + sep).join("").split(top).join("."), { cause: err });
      throw err;
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** "envs/prod" from "./envs/prod/"; "" for the root. Refuses a path that leaves the repository. */
function repositoryDir(workingDir: string): string {
  const parts = workingDir.split("/").filter((p) => p !== "" && p !== ".");
  if (isAbsolute(workingDir) || parts.includes("..")) throw new UsageError(`workingDir ${workingDir} must be a path inside the repository, without ..`);
  return parts.join(sep);
}

async function unpack(tarball: Buffer, dest: string, maxBytes: number): Promise<void> {
  try {
    await unpackArchive(tarball, dest, maxBytes);
  } catch (err) {
    if (err instanceof KtfError) throw new IntegrityError(`GitHub's tarball of the commit: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The tarball's one top directory. */
async function topDirectory(scratch: string): Promise<string> {
  const entries = await readdir(scratch, { withFileTypes: true });
  const [only, ...more] = entries;
  if (!only || more.length > 0 || !only.isDirectory()) {
    throw new IntegrityError(`GitHub's tarball of the commit should hold one top directory, it holds ${entries.map((e) => e.name).join(", ") || "nothing"}`);
  }
  return realpath(join(scratch, only.name));
}

/**
 * packConfiguration follows local module sources wherever they lead; from a temporary
 * tree, `../../..` would lead into the operator's own filesystem. Every module the
 * configuration uses, transitively, must be inside the repository.
 */
async function checkModulesStayInside(top: string, configDir: string): Promise<void> {
  const seen = new Set<string>([configDir]);
  const queue = [configDir];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const call of await localModuleCalls(current)) {
      const lexical = resolve(current, call.source);
      const target = await realpath(lexical).catch(() => lexical);
      if (!isInside(lexical, top) || !isInside(target, top)) {
        throw new UsageError(`module "${call.name}" in ${relative(top, call.file)}: source "${call.source}" leads outside the repository; ktf plans only what the repository holds`);
      }
      if (seen.has(target)) continue;
      seen.add(target);
      // packConfiguration names a source that is not a directory; nothing more to follow here.
      if (!(await stat(target).catch(() => undefined))?.isDirectory()) continue;
      queue.push(target);
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
