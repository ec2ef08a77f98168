import { createHash } from "node:crypto";
import { readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";
import { create } from "tar";
import { UsageError } from "../errors.js";
import { localModuleSources } from "./module-sources.js";

export interface PackedConfiguration {
  bytes: Buffer;
  digest: string;
  size: number;
  /** Where the packed directory sits inside the archive ("" when it is the root). */
  path: string;
  files: number;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * terraform's defaults when there is no .terraformignore (go-slug's), plus ktf's own
 * per-directory settings and local state files, which have no place in a remote run.
 */
const DEFAULT_IGNORE = [".git/", ".terraform/", ".ktf/", "*.tfstate", "*.tfstate.*", "*.tfplan", "crash.log"];
const ALWAYS_IGNORE = [".ktf/"];
const CONFIG_FILE = /\.(tf|tofu|tf\.json|tofu\.json)$/;

async function ignoreRules(dir: string): Promise<Ignore> {
  const rules = ignore().add(ALWAYS_IGNORE);
  try {
    return rules.add(await readFile(join(dir, ".terraformignore"), "utf8"));
  } catch {
    return rules.add(DEFAULT_IGNORE);
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** The deepest directory that contains all of them. */
function commonAncestor(dirs: readonly string[]): string {
  let root = dirs[0] ?? "/";
  for (const d of dirs) while (!isInside(d, root)) root = dirname(root);
  return root;
}

/** Every directory of local modules the configuration in `dir` uses, transitively. */
async function moduleDirs(dir: string): Promise<string[]> {
  const seen = new Set<string>([dir]);
  const queue = [dir];
  while (queue.length) {
    const current = queue.shift() ?? "";
    for (const source of await localModuleSources(current)) {
      const target = resolve(current, source);
      if (seen.has(target)) continue;
      if (!(await stat(target).catch(() => undefined))?.isDirectory()) {
        throw new UsageError(`module source "${source}" in ${current} is not a directory`);
      }
      seen.add(target);
      queue.push(target);
    }
  }
  return [...seen];
}

/** Paths relative to `root` of everything under `dir` that the ignore rules keep. */
async function walk(root: string, dir: string, rules: Ignore, base: string, out: Set<string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const relToBase = relative(base, full).split(sep).join("/");
    if (rules.ignores(entry.isDirectory() ? `${relToBase}/` : relToBase)) continue;
    const relToRoot = relative(root, full).split(sep).join("/");
    if (entry.isSymbolicLink()) {
      const target = resolve(dirname(full), await readlink(full));
      const real = await realpath(target).catch(() => target);
      if (!isInside(real, root)) throw new UsageError(`symlink ${full} points outside the configuration (${real}); ktf cannot ship it`);
      out.add(relToRoot);
    } else if (entry.isDirectory()) {
      out.add(relToRoot);
      await walk(root, full, rules, base, out);
    } else if (entry.isFile()) {
      out.add(relToRoot);
    }
  }
}

/**
 * Packs a configuration directory as a deterministic gzipped tar: the same files give
 * the same digest whatever their timestamps or owners. Local modules outside the
 * directory (`source = "../modules/x"`) go in too, as go-slug does: the archive's root is
 * then their common ancestor and `path` says where the directory sits in it.
 */
export async function packConfiguration(dir: string, options: { maxBytes?: number } = {}): Promise<PackedConfiguration> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const abs = resolve(dir);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new UsageError(`configuration directory ${abs} does not exist`);
  if (!info.isDirectory()) throw new UsageError(`${abs} is not a directory`);
  const real = await realpath(abs);
  if (!(await readdir(real)).some((f) => CONFIG_FILE.test(f))) {
    throw new UsageError(`no terraform configuration in ${abs} (no .tf or .tofu files): run ktf in your configuration's directory or pass -chdir=DIR`);
  }

  const dirs = await moduleDirs(real);
  const root = commonAncestor(dirs);
  const files = new Set<string>();
  for (const d of dirs) {
    if (d !== real && isInside(d, real)) continue;
    // Parents of a module outside the directory go in as bare directories.
    for (let p = relative(root, d); p && p !== "."; p = dirname(p)) files.add(p.split(sep).join("/"));
    await walk(root, d, d === real ? await ignoreRules(real) : ignore().add(DEFAULT_IGNORE), d, files);
  }
  const sorted = [...files].sort();
  const bytes = await tarGz(root, sorted, maxBytes);
  return {
    bytes,
    digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    size: bytes.length,
    path: relative(root, real).split(sep).join("/"),
    files: sorted.length,
  };
}

async function tarGz(root: string, files: string[], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = create({ cwd: root, gzip: true, portable: true, mtime: new Date(0), noDirRecurse: true, follow: false }, files);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new UsageError(`the configuration is larger than ${Math.round(maxBytes / 1048576)} MiB compressed; add what it does not need to .terraformignore`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

