import { rm } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";

/**
 * The workspace's provider cache outlives runs, so a run's code can replace a cached
 * provider. The engine never runs such a package: it compares it with the download and
 * stops with "existing cached package at DIR does not match the content of the downloaded
 * package". Left there, it would fail every later init of the workspace. This finds DIR
 * (the engine wraps its messages in a box, over several lines), only inside the cache.
 */
export function poisonedCacheEntry(output: string, cacheDir: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- the engine colours its box: escape sequences
  const flat = output.replace(/\u001b\[[0-9;]*m/g, "").replace(/[│╷╵]/g, " ").replace(/\s+/g, " ");
  const dir = /existing cached package at (\/\S+) does not match the content of the downloaded package/.exec(flat)?.[1];
  if (!dir) return undefined;
  const path = resolve(dir);
  const inside = relative(resolve(cacheDir), path);
  return inside && !inside.startsWith("..") && !inside.startsWith(sep) ? path : undefined;
}

/** Removes what poisonedCacheEntry found; returns it, for the run's log. */
export async function removePoisonedEntry(output: string, cacheDir: string | undefined): Promise<string | undefined> {
  const entry = cacheDir ? poisonedCacheEntry(output, cacheDir) : undefined;
  if (entry) await rm(entry, { recursive: true, force: true });
  return entry;
}
