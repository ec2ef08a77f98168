import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

export async function readLocalSettings(dir: string): Promise<LocalSettings> {
  const path = join(dir, SETTINGS_DIR, SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  return parseOrThrow(settingsSchema, JSON.parse(text), path);
}

export async function writeLocalSettings(dir: string, settings: LocalSettings): Promise<void> {
  await mkdir(join(dir, SETTINGS_DIR), { recursive: true });
  await writeFile(join(dir, SETTINGS_DIR, SETTINGS_FILE), JSON.stringify(settings, null, 2) + "\n");
  // Keep it out of version control without asking the user to edit .gitignore.
  await writeFile(join(dir, SETTINGS_DIR, ".gitignore"), "*\n");
}
