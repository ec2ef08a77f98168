import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeObject } from "../kube/client.js";
import { KtfError, errorMessage } from "../errors.js";
import { LABELS } from "../api/group.js";

/** The Secret `ktf github deploy` writes by default, in the operator's namespace. */
export const DEFAULT_APP_SECRET = "ktf-github-app";

/** The keys of the App's Secret. */
export const APP_SECRET_KEYS = { appId: "app-id", privateKey: "private-key", webhookSecret: "webhook-secret" } as const;

/** Where the ktf-github Deployment mounts the App's Secret, and the variable that says so. */
export const APP_SECRET_DIR = "/var/run/secrets/ktf/github";
export const APP_SECRET_DIR_ENV = "KTF_GITHUB_APP_DIR";

export interface AppSecretValues {
  /** The App's numeric ID, as text. */
  appId: string;
  /** PEM, as GitHub handed it out. */
  privateKey: string;
  webhookSecret: string;
}

/** The App's Secret as `ktf github deploy` writes it: data, not stringData, so it reads back as written. */
export function appSecret(namespace: string, name: string, values: AppSecretValues, annotations: Record<string, string> = {}): KubeObject {
  const data = {
    [APP_SECRET_KEYS.appId]: values.appId,
    [APP_SECRET_KEYS.privateKey]: values.privateKey,
    [APP_SECRET_KEYS.webhookSecret]: values.webhookSecret,
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": "github", [LABELS.managedBy]: "ktf" },
      annotations,
    },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")])),
  };
}

/**
 * The App's credentials from a directory of files (the Secret mounted), read on each call so
 * that a changed Secret is seen without a restart. A trailing newline, as `echo` and editors
 * leave one, is dropped from the ID and the webhook secret.
 */
export async function readAppSecret(dir: string): Promise<AppSecretValues> {
  const read = async (key: string): Promise<string> => {
    const path = join(dir, key);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      throw new KtfError(
        `the GitHub App's ${key} cannot be read from ${path}: ${missing ? "no such file" : errorMessage(err)}; the App's Secret needs the keys ${Object.values(APP_SECRET_KEYS).join(", ")} (\`ktf github deploy\` writes them)`,
      );
    }
    if (text.trim() === "") throw new KtfError(`the GitHub App's ${key} in ${path} is empty; the App's Secret needs a value for it (\`ktf github deploy\` writes one)`);
    return text;
  };
  const appId = (await read(APP_SECRET_KEYS.appId)).trim();
  if (!/^\d+$/.test(appId)) throw new KtfError(`the GitHub App's ${APP_SECRET_KEYS.appId} in ${join(dir, APP_SECRET_KEYS.appId)} is not a number: it is the App ID of the App's settings page`);
  const privateKey = await read(APP_SECRET_KEYS.privateKey);
  const webhookSecret = (await read(APP_SECRET_KEYS.webhookSecret)).replace(/\r?\n$/, "");
  return { appId, privateKey, webhookSecret };
}
