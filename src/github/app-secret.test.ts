import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appSecret, readAppSecret } from "./app-secret.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A directory as the kubelet mounts a Secret: one file per key. */
async function mounted(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ktf-app-secret-"));
  dirs.push(dir);
  for (const [key, value] of Object.entries(files)) await writeFile(join(dir, key), value);
  return dir;
}

const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";

describe("the App's Secret", () => {
  it("is read from the mounted files; a trailing newline left by echo is dropped from the ID and the webhook secret", async () => {
    const dir = await mounted({ "app-id": "4242\n", "private-key": PEM, "webhook-secret": "s3cret\n" });
    expect(await readAppSecret(dir)).toEqual({ appId: "4242", privateKey: PEM, webhookSecret: "s3cret" });
  });

  it.each(["app-id", "private-key", "webhook-secret"])("names the missing file %s and the keys the Secret needs", async (missing) => {
    const files: Record<string, string> = { "app-id": "1", "private-key": PEM, "webhook-secret": "s" };
    delete files[missing];
    const dir = await mounted(files);
    await expect(readAppSecret(dir)).rejects.toThrow(
      `the GitHub App's ${missing} cannot be read from ${join(dir, missing)}: no such file; the App's Secret needs the keys app-id, private-key, webhook-secret (\`ktf github deploy\` writes them)`,
    );
  });

  it("refuses an empty value and an ID that is not a number", async () => {
    await expect(readAppSecret(await mounted({ "app-id": "1", "private-key": PEM, "webhook-secret": "\n" }))).rejects.toThrow(/webhook-secret in .* is empty/);
    await expect(readAppSecret(await mounted({ "app-id": "my-app", "private-key": PEM, "webhook-secret": "s" }))).rejects.toThrow(/app-id in .* is not a number/);
  });

  it("is written as data with the three keys", () => {
    const secret = appSecret("ktf-system", "ktf-github-app", { appId: "7", privateKey: PEM, webhookSecret: "w" });
    expect(secret.metadata).toMatchObject({ name: "ktf-github-app", namespace: "ktf-system" });
    expect(secret.data).toEqual({ "app-id": "Nw==", "private-key": Buffer.from(PEM).toString("base64"), "webhook-secret": "dw==" });
  });
});
