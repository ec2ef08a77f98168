import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.js";
import { archiveSecrets, archiveVolumeSources, assembleChunks, CHUNK_KEY } from "./chunks.js";
import { packConfiguration } from "./pack.js";
import { unpackArchive } from "./unpack.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ktf-round-trip-"));
  dirs.push(dir);
  return dir;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What the kubelet does with the projected volume: each Secret's chunk in the file its item names. */
async function mountAsKubelet(objects: readonly Record<string, unknown>[], sources: readonly Record<string, unknown>[]): Promise<string> {
  const mount = await tempDir();
  for (const source of sources) {
    const { name, items } = source.secret as { name: string; items: { key: string; path: string }[] };
    const object = objects.find((o) => (o.metadata as { name: string }).name === name);
    const data = (object?.data as Record<string, string> | undefined) ?? {};
    for (const item of items) await writeFile(join(mount, item.path), Buffer.from(data[item.key] ?? "", "base64"));
  }
  return mount;
}

describe("pack -> Secrets -> mounted chunks -> assemble -> unpack", () => {
  // About 2 s here for 50 MB of random (incompressible) content: 71 chunks.
  it("carries a 50 MB configuration with an outside module through Secrets under 1 MiB each", async () => {
    const root = await tempDir();
    const blob = randomBytes(50 * 1024 * 1024);
    await mkdir(join(root, "live"), { recursive: true });
    await mkdir(join(root, "modules/big"), { recursive: true });
    await writeFile(join(root, "live/main.tf"), 'module "big" {\n  source = "../modules/big"\n}\n');
    await writeFile(join(root, "modules/big/main.tf"), "");
    await writeFile(join(root, "modules/big/blob.bin"), blob);

    const packed = await packConfiguration(join(root, "live"));
    const ref = { name: "run-1-cfg", digest: packed.digest, size: packed.size, chunks: 0, path: packed.path };
    const objects = archiveSecrets({ namespace: "team", name: ref.name, bytes: packed.bytes, labels: { "ktf.dev/run": "run-1" } });
    ref.chunks = objects.length;
    expect(objects.length).toBeGreaterThan(50);
    for (const o of objects) expect(Buffer.byteLength(JSON.stringify(o))).toBeLessThan(1024 * 1024);

    const mount = await mountAsKubelet(objects, archiveVolumeSources(ref));
    const bytes = await assembleChunks(mount, ref);
    const out = await tempDir();
    await unpackArchive(bytes, out);

    expect(ref.path).toBe("live");
    expect(await readFile(join(out, ref.path, "main.tf"), "utf8")).toContain("../modules/big");
    expect(sha256(await readFile(join(out, "modules/big/blob.bin")))).toBe(sha256(blob));
  }, 60_000);

  it("stops at a corrupted chunk before anything is unpacked", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "main.tf"), "");
    await writeFile(join(dir, "data.bin"), randomBytes(2 * 1024 * 1024));
    const packed = await packConfiguration(dir);
    const objects = archiveSecrets({ namespace: "n", name: "a", bytes: packed.bytes });
    const data = objects[1]?.data as Record<string, string>;
    const chunk = Buffer.from(data[CHUNK_KEY] ?? "", "base64");
    chunk[100] = (chunk[100] ?? 0) ^ 0xff;
    data[CHUNK_KEY] = chunk.toString("base64");

    const ref = { name: "a", digest: packed.digest, size: packed.size, chunks: objects.length };
    const mount = await mountAsKubelet(objects, archiveVolumeSources(ref));
    await expect(assembleChunks(mount, ref)).rejects.toThrow(IntegrityError);
  });
});
