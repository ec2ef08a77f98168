import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.js";
import { archiveSecrets, archiveVolumeSources, assembleChunks, CHUNK_BYTES, CHUNK_KEY, chunkCount, splitIntoChunks } from "./chunks.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Writes the chunks as the kubelet mounts the projected volume: chunk i in the file i. */
async function mountChunks(chunks: readonly Buffer[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ktf-chunks-"));
  dirs.push(dir);
  await Promise.all(chunks.map((c, i) => writeFile(join(dir, String(i)), c)));
  return dir;
}

const OWNER = { apiVersion: "ktf.dev/v1alpha1", kind: "Run", name: "r".repeat(63), uid: "0b9c4e4c-3c1f-4a6e-9d5e-0c1b2a3d4e5f", controller: true };

describe("splitIntoChunks", () => {
  it.each([
    [0, [0]],
    [1, [1]],
    [CHUNK_BYTES, [CHUNK_BYTES]],
    [CHUNK_BYTES + 1, [CHUNK_BYTES, 1]],
    [2 * CHUNK_BYTES + 5, [CHUNK_BYTES, CHUNK_BYTES, 5]],
  ])("%i bytes -> chunks of %j", (size, sizes) => {
    const bytes = randomBytes(size);
    const chunks = splitIntoChunks(bytes);
    expect(chunks.map((c) => c.length)).toEqual(sizes);
    expect(chunkCount(size)).toBe(sizes.length);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });
});

describe("archiveSecrets", () => {
  it("makes immutable, labelled, owned Secrets <name>-<index> of type ktf.dev/chunk holding the chunks", () => {
    const bytes = randomBytes(CHUNK_BYTES + 10);
    const objects = archiveSecrets({ namespace: "team", name: "run-1-cfg", bytes, owner: OWNER, labels: { "ktf.dev/run": "run-1" } });
    expect(objects.map((o) => o.metadata)).toEqual([0, 1].map((i) => ({
      name: `run-1-cfg-${i}`,
      namespace: "team",
      labels: { "app.kubernetes.io/managed-by": "ktf", "ktf.dev/component": "archive", "ktf.dev/run": "run-1" },
      ownerReferences: [OWNER],
    })));
    expect(objects.every((o) => o.kind === "Secret" && o.apiVersion === "v1" && o.type === "ktf.dev/chunk" && o.immutable === true)).toBe(true);
    const decoded = objects.map((o) => Buffer.from((o.data as Record<string, string>)[CHUNK_KEY] ?? "", "base64"));
    expect(Buffer.concat(decoded).equals(bytes)).toBe(true);
  });

  it("keeps every Secret's JSON under 1 MiB, with a long name, an owner and labels", () => {
    const objects = archiveSecrets({
      namespace: "n".repeat(63),
      name: "c".repeat(240),
      bytes: randomBytes(3 * CHUNK_BYTES),
      owner: OWNER,
      labels: { "ktf.dev/run": "r".repeat(63), "ktf.dev/workspace": "w".repeat(63) },
    });
    expect(objects).toHaveLength(3);
    for (const o of objects) expect(Buffer.byteLength(JSON.stringify(o))).toBeLessThan(1024 * 1024);
  });

  it("makes one Secret for an empty archive", () => {
    expect(archiveSecrets({ namespace: "n", name: "a", bytes: Buffer.alloc(0) })).toHaveLength(1);
  });
});

describe("archiveVolumeSources", () => {
  it("maps each Secret's chunk to the file named by its index", () => {
    expect(archiveVolumeSources({ name: "run-1-cfg", chunks: 2 })).toEqual([
      { secret: { name: "run-1-cfg-0", items: [{ key: "chunk", path: "0" }] } },
      { secret: { name: "run-1-cfg-1", items: [{ key: "chunk", path: "1" }] } },
    ]);
  });
});

describe("assembleChunks", () => {
  const bytes = randomBytes(2 * CHUNK_BYTES + 100);
  const ref = { digest: digestOf(bytes), size: bytes.length, chunks: 3 };

  it("joins the chunks in index order", async () => {
    const mount = await mountChunks(splitIntoChunks(bytes));
    expect((await assembleChunks(mount, ref)).equals(bytes)).toBe(true);
  });

  it.each([
    [
      "a corrupted chunk",
      (chunks: Buffer[]) => [chunks[0], Buffer.from(chunks[1] ?? []).fill(0, 10, 20), chunks[2]],
      /has the digest sha256:[0-9a-f]{64}, but sha256:[0-9a-f]{64} was uploaded/,
    ],
    ["chunks swapped", (chunks: Buffer[]) => [chunks[1], chunks[0], chunks[2]], /was uploaded: a chunk was changed or mixed up/],
    ["a truncated chunk", (chunks: Buffer[]) => [chunks[0], chunks[1], chunks[2]?.subarray(1)], new RegExp(`has ${bytes.length - 1} bytes, but ${bytes.length} were uploaded`)],
    ["a missing chunk", (chunks: Buffer[]) => [chunks[0], chunks[1]], /chunk 2 of 3 is missing in /],
  ])("rejects %s with an IntegrityError", async (_case, tamper, message) => {
    const mount = await mountChunks(tamper(splitIntoChunks(bytes)).filter((c): c is Buffer => c !== undefined));
    const attempt = assembleChunks(mount, ref);
    await expect(attempt).rejects.toThrow(IntegrityError);
    await expect(attempt).rejects.toThrow(message);
  });
});
