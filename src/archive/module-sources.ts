import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** `source = "./x"` or `"../x"` inside a module block (local paths start with ./ or ../). */
const HCL_SOURCE = /^\s*source\s*=\s*"(\.\.?\/[^"]*)"/gm;

interface JsonConfig {
  module?: Record<string, { source?: string } | { source?: string }[]>;
}

/** The local module sources that the configuration files directly in `dir` reference. */
export async function localModuleSources(dir: string): Promise<string[]> {
  const sources = new Set<string>();
  for (const name of await readdir(dir)) {
    if (/\.(tf|tofu)$/.test(name)) {
      const text = await readFile(join(dir, name), "utf8");
      for (const m of text.matchAll(HCL_SOURCE)) if (m[1]) sources.add(m[1]);
    } else if (/\.(tf|tofu)\.json$/.test(name)) {
      const parsed = JSON.parse(await readFile(join(dir, name), "utf8")) as JsonConfig;
      for (const block of Object.values(parsed.module ?? {})) {
        for (const m of Array.isArray(block) ? block : [block]) {
          if (m.source && /^\.\.?\//.test(m.source)) sources.add(m.source);
        }
      }
    }
  }
  return [...sources];
}
