import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** How long the CLI keeps a run's private key: `ktf runs logs` of the run works that long. */
const KEEP_MS = 7 * 86_400_000;

/** Where the CLI keeps the private keys its runs' output is sealed to (XDG state, mode 0700). */
export function keysDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_STATE_HOME ?? join(env.HOME ?? homedir(), ".local", "state"), "ktf", "keys");
}

function keyPath(env: NodeJS.ProcessEnv, namespace: string, run: string): string {
  return join(keysDir(env), `${namespace}.${run}.pem`);
}

export async function saveRunKey(env: NodeJS.ProcessEnv, namespace: string, run: string, privateKey: string): Promise<void> {
  const dir = keysDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath(env, namespace, run), privateKey, { mode: 0o600 });
  await pruneOldKeys(dir);
}

export async function loadRunKey(env: NodeJS.ProcessEnv, namespace: string, run: string): Promise<string | undefined> {
  return readFile(keyPath(env, namespace, run), "utf8").catch(() => undefined);
}

async function pruneOldKeys(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [])) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs > KEEP_MS) await rm(path, { force: true });
  }
}
