import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/client.js";
import { harness, kubectl, waitFor } from "../harness/cluster.js";
import { workspaceFixture } from "../harness/workspace.js";

const config = (names: string[]) => names.map((n) => `resource "terraform_data" "${n}" {\n  input = "${n}"\n}\n`).join("");
type Ws = KubeObject & { status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; backup?: { restoredSerial?: number } } };

describe("state backups to S3 and GCS", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  const stores = harness().stores;
  const s3 = new S3Client({ region: "us-east-1", endpoint: stores.S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: stores.S3_ACCESS_KEY ?? "", secretAccessKey: stores.S3_SECRET_KEY ?? "" } });
  const gcs = new Storage({ apiEndpoint: stores.GCS_ENDPOINT, projectId: "ktf" }).bucket(stores.BUCKET ?? "");
  const key = (serial: number) => `e2e/${w.ns}/main/${String(serial).padStart(12, "0")}.tfstate`;
  const inS3 = async (serial: number) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: stores.BUCKET, Key: key(serial) })).catch(() => undefined);
    return res ? JSON.parse(await (res.Body?.transformToString() ?? Promise.resolve("{}"))) as { serial: number; lineage: string } : undefined;
  };
  const inGcs = async (serial: number) => {
    const [exists] = await gcs.file(key(serial)).exists();
    return exists ? (JSON.parse((await gcs.file(key(serial)).download())[0].toString()) as { serial: number }) : undefined;
  };
  const backedUp = async () => (await w.client.get<Ws>(RESOURCES.Workspace, w.ns, "main"))?.status?.conditions?.find((c) => c.type === "BackedUp");

  beforeAll(async () => {
    w = await workspaceFixture("backup", { "main.tf": config(["one"]) });
  });
  afterAll(async () => {
    s3.destroy();
    await w.cleanup();
  });

  it("copies each new state version to both stores within seconds of the apply", async () => {
    expect((await w.ktf(["apply", "-auto-approve"])).code).toBe(0);
    const applied = Date.now();
    const copy = await waitFor(async () => (await inS3(1)) && (await inGcs(1)), 30_000, "the copies of serial 1");
    console.log(`backup: serial 1 in S3 and GCS ${((Date.now() - applied) / 1000).toFixed(1)} s after the apply returned`);
    expect(copy.serial).toBe(1);
    await waitFor(async () => (await backedUp())?.status === "True", 30_000, "BackedUp=True");
    expect((await backedUp())?.message).toMatch(/serial 1 is in s3:\/\/ktf-backups\/e2e; serial 1 is in gs:\/\/ktf-backups\/e2e/);
  });

  it("brings the state back when its Secrets were deleted and the workspace made again", async () => {
    await writeFile(`${w.dir}/main.tf`, config(["one", "two"]));
    expect((await w.ktf(["apply", "-auto-approve"])).code).toBe(0);
    await waitFor(async () => (await inS3(2)) && (await inGcs(2)), 30_000, "the copies of serial 2");
    // Everything of the state in the cluster, gone by hand, and the workspace with it.
    await kubectl(["-n", w.ns, "delete", "workspace", "main", "--wait=true"]);
    await kubectl(["-n", w.ns, "delete", "secret", "-l", "ktf.dev/state-of=main"]);
    await kubectl(["-n", w.ns, "delete", "secret", "tfstate-default-main"]);
    expect((await w.ktf(["workspace", "new", "main"])).code).toBe(0);
    await waitFor(async () => (await w.client.get<Ws>(RESOURCES.Workspace, w.ns, "main"))?.status?.backup?.restoredSerial === 2, 30_000, "the restore");
    const list = await w.ktf(["state", "list"]);
    expect(list.stdout.trim().split("\n")).toEqual(["terraform_data.one", "terraform_data.two"]);
    const events = await kubectl(["-n", w.ns, "get", "events", "--field-selector", "reason=Restored", "-o", "jsonpath={.items[*].message}"]);
    expect(events).toMatch(/Restored the state from its backup \(serial 2\)/);
  });

  it("restores a chosen backup by hand, through the queue, as a new write", async () => {
    const restore = await w.ktf(["state", "restore", "--serial", "1"]);
    expect(restore.code, restore.stderr).toBe(0);
    const list = await w.ktf(["state", "list"]);
    expect(list.stdout.trim().split("\n")).toEqual(["terraform_data.one"]);
    const missing = await w.ktf(["state", "restore", "--serial", "99"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no backup with serial 99 of workspace main/);
  });

  it("copies nothing of a workspace that opts out", async () => {
    expect((await w.ktf(["workspace", "new", "private", "--no-backup", "--no-select"])).code).toBe(0);
    expect((await w.ktf(["apply", "-auto-approve", "--workspace", "private"])).code).toBe(0);
    await waitFor(async () => (await w.client.get<Ws>(RESOURCES.Workspace, w.ns, "private"))?.status?.conditions?.find((c) => c.type === "BackedUp")?.reason === "BackupDisabled", 30_000, "BackupDisabled");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stores.BUCKET, Prefix: `e2e/${w.ns}/private/` }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });
});
