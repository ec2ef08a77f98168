import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IntegrityError, UsageError } from "../errors.js";
import { assembleChunks, CHUNK_KEY, chunkObjects } from "./chunks.js";
import { packConfiguration } from "./pack.js";
import { unpackArchive, unsafeEntry } from "./unpack.js";

const dirs: string[] = [];
async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "ktf-archive-"));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Pack, split into ConfigMaps, write each chunk as the kubelet would mount it, reassemble, unpack. */
async function roundTrip(dir: string): Promise<{ out: string; path: string }> {
  const packed = await packConfiguration(dir);
  const objects = chunkObjects("ConfigMap", { namespace: "n", name: "a", bytes: packed.bytes });
  for (const o of objects) {
    // Kubernetes limits a ConfigMap's data to 1 MiB and a request to 3 MiB (base64 JSON).
    const data = Buffer.from((o.binaryData as Record<string, string>)[CHUNK_KEY] ?? "", "base64");
    expect(data.length).toBeLessThan(1024 * 1024 - 64 * 1024);
    expect(JSON.stringify(o).length).toBeLessThan(3 * 1024 * 1024);
  }
  const mount = await tree({});
  await Promise.all(
    objects.map((o, i) => writeFile(join(mount, String(i)), Buffer.from((o.binaryData as Record<string, string>)[CHUNK_KEY] ?? "", "base64"))),
  );
  const bytes = await assembleChunks(mount, { digest: packed.digest, size: packed.size, chunks: objects.length });
  const out = await tree({});
  await unpackArchive(bytes, out);
  return { out, path: packed.path };
}

async function listAll(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...(await listAll(join(dir, e.name), `${rel}/`)));
    else out.push(rel);
  }
  return out.sort();
}

describe("packConfiguration", () => {
  it("leaves out terraform's defaults when there is no .terraformignore", async () => {
    const dir = await tree({ "main.tf": "", ".terraform/x": "", ".git/HEAD": "", "terraform.tfstate": "", ".ktf/settings.json": "", "vars.tfvars": "" });
    const { out } = await roundTrip(dir);
    expect(await listAll(out)).toEqual(["main.tf", "vars.tfvars"]);
  });

  it("honours a .terraformignore, negations included, and still drops .ktf", async () => {
    const dir = await tree({ "main.tf": "", ".terraformignore": "*.log\n!keep.log\n", "a.log": "", "keep.log": "", ".git/HEAD": "", ".ktf/s": "" });
    const { out } = await roundTrip(dir);
    expect(await listAll(out)).toEqual([".git/HEAD", ".terraformignore", "keep.log", "main.tf"]);
  });

  it("gives the same digest for the same files whatever their timestamps", async () => {
    const dir = await tree({ "main.tf": "x", "sub/a.tf": "y" });
    const first = await packConfiguration(dir);
    await utimes(join(dir, "main.tf"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect((await packConfiguration(dir)).digest).toBe(first.digest);
  });

  it("brings local modules from outside the directory, transitively", async () => {
    const root = await tree({
      "live/prod/main.tf": 'module "net" {\n  source = "../../modules/net"\n}\n',
      "modules/net/main.tf": 'module "sub" {\n  source = "../sub"\n}\n',
      "modules/sub/main.tf": "",
      "unrelated/secret.txt": "no",
    });
    const { out, path } = await roundTrip(join(root, "live/prod"));
    expect(path).toBe("live/prod");
    expect(await listAll(out)).toEqual(["live/prod/main.tf", "modules/net/main.tf", "modules/sub/main.tf"]);
  });

  it("rejects a symlink that points outside, naming it", async () => {
    const dir = await tree({ "main.tf": "" });
    await symlink("/etc/passwd", join(dir, "leak"));
    await expect(packConfiguration(dir)).rejects.toThrow(/symlink .*leak points outside/);
  });

  it("names a missing directory and one without configuration", async () => {
    await expect(packConfiguration("/no/such/dir")).rejects.toThrow(UsageError);
    await expect(packConfiguration(await tree({ "README.md": "" }))).rejects.toThrow(/no terraform configuration/);
  });

  it("carries 50 MB through ConfigMap-sized chunks", async () => {
    const dir = await tree({ "main.tf": "", "blob.bin": randomBytes(50 * 1024 * 1024) });
    const { out } = await roundTrip(dir);
    expect((await readFile(join(out, "blob.bin"))).length).toBe(50 * 1024 * 1024);
  }, 60_000);
});

describe("assembleChunks", () => {
  it("rejects a corrupted or missing chunk", async () => {
    const packed = await packConfiguration(await tree({ "main.tf": "x" }));
    const mount = await tree({ "0": Buffer.from(packed.bytes).fill(0, 10, 20) });
    await expect(assembleChunks(mount, { digest: packed.digest, size: packed.size, chunks: 1 })).rejects.toThrow(IntegrityError);
    await expect(assembleChunks(mount, { digest: packed.digest, size: packed.size, chunks: 2 })).rejects.toThrow(/chunk 1 of 2 is missing/);
  });
});

describe("unsafeEntry", () => {
  it.each([
    [{ path: "a/b.tf", type: "File" }, undefined],
    [{ path: "/etc/x", type: "File" }, "absolute path /etc/x"],
    [{ path: "a/../../x", type: "File" }, "path a/../../x leaves the archive"],
    [{ path: "dev", type: "CharacterDevice" }, "dev is a CharacterDevice, not a file, directory or symlink"],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "../../x" }, "symlink a/l points outside the archive (../../x)"],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "../b" }, undefined],
  ])("%j", (entry, problem) => {
    expect(unsafeEntry(entry)).toBe(problem);
  });
});
