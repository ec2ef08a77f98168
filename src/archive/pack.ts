import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { lstat, readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { Pack } from "tar";
import { UsageError } from "../errors.js";
import { localModuleCalls } from "./module-sources.js";

export interface PackedConfiguration {
  /** A gzipped tar. */
  bytes: Buffer;
  /** "sha256:<hex>" of `bytes`. */
  digest: string;
  size: number;
  /** Where the packed directory sits inside the archive ("" when it is the root). */
  path: string;
  /** Files and symlinks in the archive (directories not counted). */
  files: number;
}

export interface PackOptions {
  /** The largest archive accepted, compressed. */
  maxBytes?: number;
  /**
   * The archive's root, an ancestor of the directory (a repository's top, so that paths in
   * the archive are the repository's); default the common ancestor of what goes in.
   */
  root?: string;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/** What terraform (go-slug) leaves out when a directory has no .terraformignore, and crash logs. */
export const DEFAULT_IGNORE = [".git/", ".terraform/", "crash.log"];

/**
 * Left out whatever .terraformignore says. `.ktf/` is ktf's own per-directory settings.
 * `.terraform/` holds providers built for this machine and the local backend's settings;
 * the runner runs init itself. State and plan files (and terraform.tfstate.d/) hold
 * secrets in clear text and the workspace's state is their place, not the upload; a ktf run
 * uses the workspace's state, never a local file.
 */
export const ALWAYS_IGNORE = [".ktf/", ".terraform/", "*.tfstate", "*.tfstate.*", "*.tfplan"];

const CONFIG_FILE = /\.(tf|tofu)(\.json)?$/;

/**
 * Packs a configuration directory as a deterministic gzipped tar: the same files give the
 * same digest whatever their timestamps, owners or link counts (entries sorted, mtime 0,
 * uid/gid 0, modes 0644/0755). Local modules outside the directory (`source =
 * "../modules/x"`) go in too, as go-slug does: the archive's root is then the common
 * ancestor and `path` says where the directory sits in it. Only the directory and the
 * module directories go in, never the rest of the ancestor.
 */
export async function packConfiguration(dir: string, options: PackOptions = {}): Promise<PackedConfiguration> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const configDir = await configurationDir(dir);
  const trees = packedTrees(configDir, await moduleDirs(configDir));
  const root = options.root ? await realpath(options.root) : commonAncestor(trees);
  const outside = trees.find((t) => !isInside(t, root));
  if (outside) throw new UsageError(`${outside} is outside ${root}: a local module of the configuration leaves it`);
  const entries = new Map<string, Stats>();
  for (const tree of trees) await collectTree({ root, trees, entries }, tree);

  const paths = [...entries.keys()].map((abs) => toPosix(relative(root, abs))).sort();
  const { bytes, size } = await tarGz(root, paths, entries, maxBytes);
  if (!bytes) throw tooLarge(size, maxBytes, entries, root);
  return {
    bytes,
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    size,
    path: toPosix(relative(root, configDir)),
    files: [...entries.values()].filter((s) => !s.isDirectory()).length,
  };
}

/** The real path of the directory, once it is known to hold a configuration. */
async function configurationDir(dir: string): Promise<string> {
  const abs = resolve(dir);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new UsageError(`configuration directory ${abs} does not exist`);
  if (!info.isDirectory()) throw new UsageError(`${abs} is not a directory`);
  const real = await realpath(abs);
  if (!(await readdir(real)).some((f) => CONFIG_FILE.test(f))) {
    throw new UsageError(`no terraform configuration in ${abs} (no .tf, .tofu or .tf.json files): run ktf in your configuration's directory or pass -chdir=DIR`);
  }
  return real;
}

/** Every directory of local modules that the configuration in `dir` uses, transitively, as real paths. */
async function moduleDirs(dir: string): Promise<string[]> {
  const seen = new Set<string>([dir]);
  const queue = [dir];
  for (let current = queue.shift(); current !== undefined; current = queue.shift()) {
    for (const call of await localModuleCalls(current)) {
      const target = await realpath(resolve(current, call.source)).catch(() => undefined);
      if (!target || !(await stat(target)).isDirectory()) {
        throw new UsageError(`module "${call.name}" in ${call.file}: source "${call.source}" is not a directory`);
      }
      if (seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return [...seen];
}

/**
 * The directories that go in whole, each under its own ignore rules: the configuration
 * directory (modules inside it are part of it) and the outermost module directories
 * outside it.
 */
function packedTrees(configDir: string, modules: readonly string[]): string[] {
  const outside = modules.filter((d) => !isInside(d, configDir));
  return [configDir, ...outside.filter((d) => !outside.some((o) => o !== d && isInside(d, o)))];
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The deepest directory that contains all of them. */
function commonAncestor(dirs: readonly string[]): string {
  let root = dirs[0] ?? sep;
  for (const d of dirs) while (!isInside(d, root)) root = dirname(root);
  return root;
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/** A tree's own .terraformignore, or terraform's defaults, then what is never shipped. */
async function ignoreRules(tree: string): Promise<Ignore> {
  const own = await readFile(join(tree, ".terraformignore"), "utf8").catch(() => undefined);
  return ignore()
    .add(own ?? DEFAULT_IGNORE)
    .add(ALWAYS_IGNORE);
}

interface Collection {
  root: string;
  trees: readonly string[];
  /** Absolute path -> the stats to write for it. */
  entries: Map<string, Stats>;
}

async function collectTree(c: Collection, tree: string): Promise<void> {
  // The directories between the root and the tree go in bare, so that the tree has parents.
  for (let p = tree; p !== c.root && isInside(p, c.root); p = dirname(p)) c.entries.set(p, normalized(await lstat(p)));
  await collectDir(c, tree, tree, await ignoreRules(tree));
}

async function collectDir(c: Collection, tree: string, dir: string, rules: Ignore): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const isDir = entry.isDirectory();
    // Another tree (the configuration inside a module it uses) comes in under its own rules.
    if (isDir && c.trees.includes(abs)) continue;
    const rel = toPosix(relative(tree, abs));
    if (rules.ignores(isDir ? `${rel}/` : rel)) continue;
    if (entry.isSymbolicLink()) await checkSymlink(c, abs);
    else if (!isDir && !entry.isFile()) continue; // sockets, pipes, devices: nothing terraform reads
    c.entries.set(abs, normalized(await lstat(abs)));
    if (isDir) await collectDir(c, tree, abs, rules);
  }
}

/** A symlink goes in as a link; it must point at something that goes in too, by a relative path. */
async function checkSymlink(c: Collection, link: string): Promise<void> {
  const target = await readlink(link);
  const lexical = resolve(dirname(link), target);
  const real = await realpath(lexical).catch(() => lexical);
  if (!isInside(lexical, c.root) || !c.trees.some((t) => isInside(real, t))) {
    throw new UsageError(
      `symlink ${link} points outside the configuration (to ${real}); ktf cannot ship it: copy what it points to into the directory, or add the link to .terraformignore`,
    );
  }
  if (isAbsolute(target)) {
    throw new UsageError(`symlink ${link} is absolute (${target}); make it relative so that it still points inside the configuration in the run pod`);
  }
}

/** Stats as the archive records them: nothing that differs between checkouts of the same files. */
function normalized(stats: Stats): Stats {
  const executable = stats.isDirectory() || stats.isSymbolicLink() || (stats.mode & 0o111) !== 0;
  // nlink 1: node-tar would write a second name of a hard-linked file as a link entry.
  return Object.assign(stats, { mode: (stats.mode & constants.S_IFMT) | (executable ? 0o755 : 0o644), nlink: 1, uid: 0, gid: 0 });
}

/**
 * Streams the tar.gz; past `maxBytes` it keeps counting but stops keeping the bytes (node-tar
 * cannot be stopped without leaking the file it is reading), and returns no bytes.
 */
async function tarGz(root: string, paths: readonly string[], entries: Map<string, Stats>, maxBytes: number): Promise<{ bytes?: Buffer; size: number }> {
  // The stat cache hands node-tar our normalized stats instead of its own lstat.
  const pack = new Pack({ cwd: root, gzip: true, portable: true, mtime: new Date(0), noDirRecurse: true, statCache: entries });
  const done = new Promise<{ bytes?: Buffer; size: number }>((resolvePromise, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    pack.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) parts.push(chunk);
      else parts.length = 0;
    });
    pack.on("end", () => resolvePromise(size <= maxBytes ? { bytes: Buffer.concat(parts), size } : { size }));
    pack.on("error", reject);
  });
  // Pack.add, unlike tar.create, takes a name starting with "@" as a file, not as an archive to append.
  for (const p of paths) pack.add(p);
  pack.end();
  return done;
}

function tooLarge(size: number, maxBytes: number, entries: Map<string, Stats>, root: string): UsageError {
  let biggest: [string, Stats] | undefined;
  for (const e of entries) if (!biggest || e[1].size > biggest[1].size) biggest = e;
  const hint = biggest ? ` (the biggest file is ${toPosix(relative(root, biggest[0]))}, ${mib(biggest[1].size)})` : "";
  return new UsageError(
    `the configuration is ${mib(size)} compressed, over the limit of ${mib(maxBytes)}${hint}: add what the run does not need to .terraformignore`,
  );
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
