import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { parseOrThrow } from "../api/validate.js";

/** ktf's memory for one configuration directory, like terraform's .terraform/environment. */
export const SETTINGS_DIR = ".ktf";
const SETTINGS_FILE = "settings.json";

const settingsSchema = z.object({
  workspace: z.string().optional(),
  namespace: z.string().optional(),
  context: z.string().optional(),
});
export type LocalSettings = z.infer<typeof settingsSchema>;

/**
 * The settings of the nearest directory at or above `dir` that has them, as git finds
 * .git: a subdirectory (or -chdir=sub) uses its parent's selected workspace.
 */
export async function readLocalSettings(dir: string): Promise<LocalSettings> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const path = join(current, SETTINGS_DIR, SETTINGS_FILE);
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text !== undefined) return parseOrThrow(settingsSchema, JSON.parse(text), path);
    if (dirname(current) === current) return {};
  }
}

export async function writeLocalSettings(dir: string, settings: LocalSettings): Promise<void> {
  await mkdir(join(dir, SETTINGS_DIR), { recursive: true });
  await writeFile(join(dir, SETTINGS_DIR, SETTINGS_FILE), JSON.stringify(settings, null, 2) + "\n");
  // Keep it out of version control without asking the user to edit .gitignore.
  await writeFile(join(dir, SETTINGS_DIR, ".gitignore"), "*\n");
}
