import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Parser, type ReadEntry } from "tar";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { packConfiguration } from "./pack.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh directory with these files (a trailing "/" makes an empty directory). */
async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "ktf-pack-"));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith("/")) {
      await mkdir(join(root, path), { recursive: true });
      continue;
    }
    await mkdir(join(root, path, ".."), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

interface Listed {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkpath: string;
}

/** The archive's entries, in order. */
async function listArchive(bytes: Buffer): Promise<Listed[]> {
  const out: Listed[] = [];
  await new Promise<void>((resolvePromise, reject) => {
    const parser = new Parser({
      onReadEntry: (e: ReadEntry) => {
        out.push({
          path: e.path,
          type: e.type,
          mode: e.mode ?? -1,
          // Portable archives leave uid, gid and directories' mtime empty; every reader takes that as 0.
          uid: e.uid ?? 0,
          gid: e.gid ?? 0,
          mtime: e.mtime?.getTime() ?? 0,
          linkpath: e.linkpath ?? "",
        });
        e.resume();
      },
    });
    parser.on("error", reject);
    parser.on("end", () => resolvePromise());
    parser.end(bytes);
  });
  return out;
}

async function filesIn(dir: string): Promise<string[]> {
  const packed = await packConfiguration(dir);
  return (await listArchive(packed.bytes)).filter((e) => e.type !== "Directory").map((e) => e.path);
}

describe("packConfiguration: what goes in", () => {
  it.each([
    [
      "terraform's defaults without a .terraformignore",
      { "main.tf": "", ".terraform.lock.hcl": "", "vars.tfvars": "", ".git/HEAD": "", ".terraform/providers/p": "", "crash.log": "" },
      [".terraform.lock.hcl", "main.tf", "vars.tfvars"],
    ],
    [
      "state, plans and ktf's settings, always",
      {
        "main.tf": "",
        ".terraformignore": "*.log\n",
        "terraform.tfstate": "",
        "terraform.tfstate.backup": "",
        ".terraform.tfstate.lock.info": "",
        "terraform.tfstate.d/dev/terraform.tfstate": "",
        "out.tfplan": "",
        ".ktf/settings.json": "",
        ".terraform/modules/m/main.tf": "",
      },
      [".terraformignore", "main.tf"],
    ],
    [
      "a .terraformignore replaces the defaults, negations included",
      { "main.tf": "", ".terraformignore": "*.log\n!keep.log\nbuild/\n", "a.log": "", "keep.log": "", "build/x": "", ".git/HEAD": "", "crash.log": "" },
      [".git/HEAD", ".terraformignore", "keep.log", "main.tf"],
    ],
    [
      "subdirectories, and rules that name a nested path",
      { "main.tf": "", ".terraformignore": "docs/**/*.png\n", "docs/a/b.png": "", "docs/a/b.md": "", "modules/x/main.tf": "" },
      [".terraformignore", "docs/a/b.md", "main.tf", "modules/x/main.tf"],
    ],
    ["a .tofu configuration", { "main.tofu": "" }, ["main.tofu"]],
    ["a JSON configuration", { "main.tf.json": "{}" }, ["main.tf.json"]],
    ["a file whose name starts with @ (not an archive to append)", { "main.tf": "", "@x.tf": "" }, ["@x.tf", "main.tf"]],
  ])("%s", async (_case, files, expected) => {
    expect(await filesIn(await tree(files))).toEqual(expected);
  });

  it("writes entries sorted, directories before what they hold, with the count of files", async () => {
    const dir = await tree({ "main.tf": "", "b/z.tf": "", "a/y/x.txt": "", "a-b.txt": "", "empty/": "" });
    const packed = await packConfiguration(dir);
    expect((await listArchive(packed.bytes)).map((e) => e.path)).toEqual(["a/", "a-b.txt", "a/y/", "a/y/x.txt", "b/", "b/z.tf", "empty/", "main.tf"]);
    expect(packed.files).toBe(4);
    expect(packed.path).toBe("");
    expect(packed.size).toBe(packed.bytes.length);
    expect(packed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("keeps a path longer than a tar header holds", async () => {
    const long = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(80)}.tf`;
    expect(await filesIn(await tree({ "main.tf": "", [long]: "" }))).toEqual([long, "main.tf"]);
  });
});

describe("packConfiguration: determinism", () => {
  it("gives the same digest for the same files whatever their times, owners' modes and links", async () => {
    const dir = await tree({ "main.tf": "x", "sub/a.tf": "y", "run.sh": "#!/bin/sh\n" });
    await chmod(join(dir, "run.sh"), 0o775);
    const first = await packConfiguration(dir);
    expect((await packConfiguration(dir)).digest).toBe(first.digest);

    await utimes(join(dir, "main.tf"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    await utimes(join(dir, "sub"), new Date(2002, 1, 1), new Date(2002, 1, 1));
    await chmod(join(dir, "sub/a.tf"), 0o600);
    await chmod(join(dir, "run.sh"), 0o700);
    await link(join(dir, "main.tf"), join(dir, "..", `${dir.split("/").pop() ?? ""}-hardlink`));
    dirs.push(join(dir, "..", `${dir.split("/").pop() ?? ""}-hardlink`));
    expect((await packConfiguration(dir)).digest).toBe(first.digest);
  });

  it("records mtime 0, uid and gid 0, and 0644/0755 modes", async () => {
    const dir = await tree({ "main.tf": "x", "run.sh": "#!/bin/sh\n", "sub/": "" });
    await chmod(join(dir, "run.sh"), 0o700);
    const entries = await listArchive((await packConfiguration(dir)).bytes);
    expect(entries.map((e) => [e.path, e.mode.toString(8), e.uid, e.gid, e.mtime])).toEqual([
      ["main.tf", "644", 0, 0, 0],
      ["run.sh", "755", 0, 0, 0],
      ["sub/", "755", 0, 0, 0],
    ]);
  });

  it("changes the digest when a file's content changes", async () => {
    const dir = await tree({ "main.tf": "x" });
    const first = await packConfiguration(dir);
    await writeFile(join(dir, "main.tf"), "y");
    expect((await packConfiguration(dir)).digest).not.toBe(first.digest);
  });

  it("writes a second name of a hard-linked file as a file, not as a link entry", async () => {
    const dir = await tree({ "main.tf": "x" });
    await link(join(dir, "main.tf"), join(dir, "copy.tf"));
    const entries = await listArchive((await packConfiguration(dir)).bytes);
    expect(entries.map((e) => [e.path, e.type])).toEqual([
      ["copy.tf", "File"],
      ["main.tf", "File"],
    ]);
  });
});

describe("packConfiguration: local modules", () => {
  it("brings modules from outside the directory, transitively, and nothing else of the ancestor", async () => {
    const root = await tree({
      "live/prod/main.tf": 'module "net" {\n  source = "../../modules/net"\n}\n',
      "live/prod/.terraform/x": "",
      "live/staging/main.tf": "",
      "modules/net/main.tf": 'module "sub" {\n  source = "../sub"\n}\n',
      "modules/net/.git/HEAD": "",
      "modules/sub/main.tf": 'module "local" {\n  source = "./inner"\n}\n',
      "modules/sub/inner/main.tf": "",
      "modules/unused/main.tf": "",
      "secret.txt": "no",
    });
    const packed = await packConfiguration(join(root, "live/prod"));
    expect(packed.path).toBe("live/prod");
    expect((await listArchive(packed.bytes)).map((e) => e.path)).toEqual([
      "live/",
      "live/prod/",
      "live/prod/main.tf",
      "modules/",
      "modules/net/",
      "modules/net/main.tf",
      "modules/sub/",
      "modules/sub/inner/",
      "modules/sub/inner/main.tf",
      "modules/sub/main.tf",
    ]);
    expect(packed.files).toBe(4);
  });

  it("applies each outside module's own .terraformignore", async () => {
    const root = await tree({
      "app/main.tf": 'module "m" {\n  source = "../m"\n}\n',
      "m/main.tf": "",
      "m/.terraformignore": "*.md\n",
      "m/README.md": "",
      "m/.git/HEAD": "",
    });
    expect(await filesIn(join(root, "app"))).toEqual(["app/main.tf", "m/.git/HEAD", "m/.terraformignore", "m/main.tf"]);
  });

  it("packs a module's example that uses the module above it, under the example's own rules", async () => {
    const root = await tree({
      "main.tf": "",
      "README.md": "",
      ".terraformignore": "examples/\n",
      "examples/basic/main.tf": 'module "this" {\n  source = "../.."\n}\n',
      "examples/basic/.terraformignore": "*.txt\n",
      "examples/basic/notes.txt": "",
      "examples/other/main.tf": "",
    });
    const packed = await packConfiguration(join(root, "examples/basic"));
    expect(packed.path).toBe("examples/basic");
    expect((await listArchive(packed.bytes)).filter((e) => e.type !== "Directory").map((e) => e.path)).toEqual([
      ".terraformignore",
      "README.md",
      "examples/basic/.terraformignore",
      "examples/basic/main.tf",
      "main.tf",
    ]);
  });

  it("follows a module cycle without looping", async () => {
    const root = await tree({
      "app/main.tf": 'module "a" {\n  source = "../a"\n}\n',
      "a/main.tf": 'module "b" {\n  source = "../b"\n}\n',
      "b/main.tf": 'module "a" {\n  source = "../a"\n}\n',
    });
    expect(await filesIn(join(root, "app"))).toEqual(["a/main.tf", "app/main.tf", "b/main.tf"]);
  });

  it("names a module whose source is not a directory", async () => {
    const dir = await tree({ "main.tf": 'module "gone" {\n  source = "../nowhere"\n}\n' });
    await expect(packConfiguration(dir)).rejects.toThrow(UsageError);
    await expect(packConfiguration(dir)).rejects.toThrow(/module "gone" in .*main\.tf: source "\.\.\/nowhere" is not a directory/);
  });

  it("does not take a provisioner's file source for a module", async () => {
    const root = await tree({
      "app/main.tf": 'resource "null_resource" "x" {\n  provisioner "file" {\n    source = "../scripts/run.sh"\n  }\n}\n',
      "scripts/run.sh": "",
    });
    const packed = await packConfiguration(join(root, "app"));
    expect(packed.path).toBe("");
    expect((await listArchive(packed.bytes)).map((e) => e.path)).toEqual(["main.tf"]);
  });
});

describe("packConfiguration: symlinks", () => {
  it("keeps a relative link that points inside, as a link", async () => {
    const dir = await tree({ "main.tf": "", "shared/vars.tf": "" });
    await symlink("shared/vars.tf", join(dir, "vars.tf"));
    await symlink("shared", join(dir, "alias"));
    const entries = await listArchive((await packConfiguration(dir)).bytes);
    expect(entries.filter((e) => e.type === "SymbolicLink").map((e) => [e.path, e.linkpath])).toEqual([
      ["alias", "shared"],
      ["vars.tf", "shared/vars.tf"],
    ]);
  });

  it.each([
    ["an absolute path outside", "/etc/passwd", /symlink .*\/leak points outside the configuration \(to \/etc\/passwd\)/],
    ["a relative path outside", "../../../etc", /symlink .*\/leak points outside the configuration/],
    ["the ancestor's part that is not packed", "../secret.txt", /symlink .*\/leak points outside the configuration/],
  ])("rejects a link to %s, naming it", async (_case, target, message) => {
    const root = await tree({ "app/main.tf": "", "secret.txt": "" });
    await symlink(target, join(root, "app/leak"));
    await expect(packConfiguration(join(root, "app"))).rejects.toThrow(UsageError);
    await expect(packConfiguration(join(root, "app"))).rejects.toThrow(message);
  });

  it("rejects an absolute link even to inside, since it would not point there in the run pod", async () => {
    const dir = await tree({ "main.tf": "" });
    await symlink(join(dir, "main.tf"), join(dir, "abs.tf"));
    await expect(packConfiguration(dir)).rejects.toThrow(/symlink .*abs\.tf is absolute/);
  });

  it("leaves out a link that .terraformignore leaves out", async () => {
    const dir = await tree({ "main.tf": "", ".terraformignore": "leak\n" });
    await symlink("/etc/passwd", join(dir, "leak"));
    expect(await filesIn(dir)).toEqual([".terraformignore", "main.tf"]);
  });

  it("packs a directory reached through a symlink under its real path", async () => {
    const root = await tree({ "real/main.tf": "" });
    await symlink(join(root, "real"), join(root, "via"));
    const packed = await packConfiguration(join(root, "via"));
    expect(packed.path).toBe("");
    expect((await listArchive(packed.bytes)).map((e) => e.path)).toEqual(["main.tf"]);
  });
});

describe("packConfiguration: refusals", () => {
  it("names a directory that does not exist or is a file", async () => {
    await expect(packConfiguration("/no/such/dir")).rejects.toThrow(new UsageError("configuration directory /no/such/dir does not exist"));
    const dir = await tree({ "main.tf": "" });
    await expect(packConfiguration(join(dir, "main.tf"))).rejects.toThrow(new UsageError(`${join(dir, "main.tf")} is not a directory`));
  });

  it("names a directory without configuration at its root", async () => {
    const dir = await tree({ "README.md": "", "sub/main.tf": "" });
    await expect(packConfiguration(dir)).rejects.toThrow(UsageError);
    await expect(packConfiguration(dir)).rejects.toThrow(`no terraform configuration in ${dir}`);
  });

  it("gives the size and the limit when the archive is too large, and the biggest file", async () => {
    const dir = await tree({ "main.tf": "", "big.bin": randomBytes(3 * 1024 * 1024) });
    await expect(packConfiguration(dir, { maxBytes: 1024 * 1024 })).rejects.toThrow(UsageError);
    await expect(packConfiguration(dir, { maxBytes: 1024 * 1024 })).rejects.toThrow(
      /the configuration is \d+\.\d MiB compressed, over the limit of 1\.0 MiB \(the biggest file is big\.bin, 3\.0 MiB\)/,
    );
    const packed = await packConfiguration(dir, { maxBytes: 4 * 1024 * 1024 });
    expect(packed.size).toBeGreaterThan(1024 * 1024);
  });
});
