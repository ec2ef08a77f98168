import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Parser, type ReadEntry } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitRepository } from "../../test/harness/fake-github.js";
import { packConfiguration } from "../archive/pack.js";
import { IntegrityError, UsageError } from "../errors.js";
import { configurationFromTarball } from "./tarball.js";

let scratch: string;
const repos: GitRepository[] = [];
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ktf-tarball-test-"));
});
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

async function repository(files: Record<string, string>): Promise<{ git: GitRepository; sha: string; tarball: Buffer }> {
  const git = await GitRepository.create();
  repos.push(git);
  const sha = await git.commit("main", files);
  // As GitHub names its top directory: owner-repo-<short sha>.
  return { git, sha, tarball: await git.archive(sha, `acme-infra-${sha.slice(0, 7)}`) };
}

async function listed(bytes: Buffer): Promise<string[]> {
  const paths: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({ onReadEntry: (e: ReadEntry) => (paths.push(e.path), e.resume()) });
    parser.on("error", reject);
    parser.on("end", () => resolve());
    parser.end(bytes);
  });
  return paths;
}

const configuration = {
  "README.md": "# infra\n",
  "envs/prod/main.tf": 'module "x" {\n  source = "../../modules/x"\n}\n',
  "envs/prod/vars.tf": 'variable "name" {}\n',
  "envs/prod/.terraformignore": "*.log\nscratch/\n",
  "envs/prod/debug.log": "noise\n",
  "envs/prod/scratch/notes.txt": "notes\n",
  "envs/prod/sub/link.tf": "symlink:../vars.tf",
  "envs/staging/main.tf": "# not used by prod\n",
  "modules/x/main.tf": 'output "o" { value = 1 }\n',
  "modules/x/README.md": "module docs\n",
};

describe("configurationFromTarball", () => {
  it("makes the same archive as the CLI in a checkout: .terraformignore applied, the local module outside the directory included", async () => {
    const { git, tarball } = await repository(configuration);
    const fromTarball = await configurationFromTarball(tarball, "envs/prod", { tmpDir: scratch });
    const fromCheckout = await packConfiguration(join(git.dir, "envs/prod"));
    expect(fromTarball.digest).toBe(fromCheckout.digest);
    expect(fromTarball.path).toBe("envs/prod");
    expect(await listed(fromTarball.bytes)).toEqual([
      "envs/",
      "envs/prod/",
      "envs/prod/.terraformignore",
      "envs/prod/main.tf",
      "envs/prod/sub/",
      "envs/prod/sub/link.tf",
      "envs/prod/vars.tf",
      "modules/",
      "modules/x/",
      "modules/x/README.md",
      "modules/x/main.tf",
    ]);
    expect(await readdir(scratch)).toEqual([]);
  });

  it("packs the repository root for a workingDir of '' or '.'", async () => {
    const { git, tarball } = await repository({ "main.tf": "# root\n", "docs/x.md": "x\n" });
    for (const dir of ["", ".", "./"]) {
      const packed = await configurationFromTarball(tarball, dir, { tmpDir: scratch });
      // The checkout has .git/, which the default ignore rules leave out.
      expect(packed.digest).toBe((await packConfiguration(git.dir)).digest);
    }
  });

  it("names a missing directory and a workingDir that leaves the repository", async () => {
    const { tarball } = await repository({ "main.tf": "# root\n" });
    await expect(configurationFromTarball(tarball, "envs/none", { tmpDir: scratch })).rejects.toThrow(new UsageError("the repository has no directory envs/none at this commit: check the workspace's workingDir"));
    await expect(configurationFromTarball(tarball, "../x", { tmpDir: scratch })).rejects.toThrow(UsageError);
    await expect(configurationFromTarball(tarball, "/etc", { tmpDir: scratch })).rejects.toThrow(UsageError);
    expect(await readdir(scratch)).toEqual([]);
  });

  it("refuses a local module that leads out of the repository, into the machine's files", async () => {
    await mkdir(join(scratch, "outside"));
    await writeFile(join(scratch, "outside", "main.tf"), "# the operator's files\n");
    // envs/prod -> repo top -> the temporary directory -> its parent, `scratch`.
    const { tarball } = await repository({ "envs/prod/main.tf": 'module "steal" {\n  source = "../../../../outside"\n}\n' });
    await expect(configurationFromTarball(tarball, "envs/prod", { tmpDir: scratch })).rejects.toThrow(
      'module "steal" in envs/prod/main.tf: source "../../../../outside" leads outside the repository',
    );
    expect((await readdir(scratch)).sort()).toEqual(["outside"]);
  });

  it("says which path is wrong in repository terms when packing fails", async () => {
    const { tarball } = await repository({ "envs/prod/main.tf": 'module "m" {\n  source = "../missing"\n}\n' });
    const err = await configurationFromTarball(tarball, "envs/prod", { tmpDir: scratch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('module "m" in envs/prod/main.tf: source "../missing" is not a directory');
  });
});

interface RawEntry {
  path: string;
  type?: "0" | "2" | "3" | "1" | "5";
  body?: string;
  linkpath?: string;
}

/** A tar.gz written byte by byte, so that it can hold what no honest tool would write. */
function rawTarball(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const header = Buffer.alloc(512);
    header.write(e.path, 0, 100, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(body.length.toString(8).padStart(11, "0") + "\0", 124);
    header.write("00000000000\0", 136);
    header.write("        ", 148);
    header.write(e.type ?? "0", 156);
    header.write(e.linkpath ?? "", 157, 100, "utf8");
    header.write("ustar\0" + "00", 257);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe("configurationFromTarball with a hostile tarball", () => {
  const top = "acme-infra-1234567/";
  const main = { path: `${top}main.tf`, body: "# root\n" };

  it.each<[string, RawEntry[], string]>([
    ["a ../evil entry", [{ path: top, type: "5" }, main, { path: `${top}../evil`, body: "x" }], "leaves the archive"],
    ["a ../ at the top", [{ path: "../evil", body: "x" }], "leaves the archive"],
    ["an absolute path", [{ path: top, type: "5" }, main, { path: "/tmp/ktf-evil", body: "x" }], "absolute path"],
    ["a symlink to /etc", [{ path: top, type: "5" }, main, { path: `${top}etc`, type: "2", linkpath: "/etc" }], "points outside the archive"],
    ["a symlink climbing out", [{ path: top, type: "5" }, main, { path: `${top}up`, type: "2", linkpath: "../../.." }], "points outside the archive"],
    ["a path through a symlink", [{ path: top, type: "5" }, { path: `${top}d`, type: "2", linkpath: "." }, { path: `${top}d/x.tf`, body: "x" }], "goes through the symlink"],
    ["a character device", [{ path: top, type: "5" }, main, { path: `${top}tty`, type: "3" }], "not a file, directory or symlink"],
    ["a hard link", [{ path: top, type: "5" }, main, { path: `${top}passwd`, type: "1", linkpath: "/etc/passwd" }], "not a file, directory or symlink"],
  ])("refuses %s and writes nothing", async (_name, entries, message) => {
    const err = await configurationFromTarball(rawTarball(entries), "", { tmpDir: scratch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain(message);
    expect(await readdir(scratch)).toEqual([]);
  });

  it("refuses a tarball without one top directory", async () => {
    const err = await configurationFromTarball(rawTarball([main, { path: "other/main.tf", body: "x" }]), "", { tmpDir: scratch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain("one top directory");
  });

  it("refuses a tarball that unpacks past the limit", async () => {
    const err = await configurationFromTarball(rawTarball([{ path: top, type: "5" }, { path: `${top}big.tf`, body: "x".repeat(10_000) }]), "", { tmpDir: scratch, maxUnpackedBytes: 1000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as Error).message).toContain("more than 1000 bytes");
    expect(await readdir(scratch)).toEqual([]);
  });

  it("refuses bytes that are not a tarball", async () => {
    await expect(configurationFromTarball(Buffer.from("<html>rate limited</html>"), "", { tmpDir: scratch })).rejects.toThrow(IntegrityError);
  });
});
