import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Header } from "tar";
import { afterEach, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors.js";
import { type TarEntry, unpackArchive, unsafeArchive, unsafeEntry } from "./unpack.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ktf-unpack-"));
  dirs.push(dir);
  return dir;
}

interface HandMade extends TarEntry {
  body?: string;
}

/** A tar.gz written header by header, so that it can hold what packConfiguration never writes. */
function handMadeTar(entries: readonly HandMade[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const header = new Header({
      path: e.path,
      type: e.type as never,
      mode: e.type === "Directory" ? 0o755 : 0o644,
      size: body.length,
      mtime: new Date(0),
      uid: 0,
      gid: 0,
      ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
    });
    header.encode();
    if (!header.block) throw new Error("header did not encode");
    blocks.push(header.block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe("unsafeEntry", () => {
  it.each<[TarEntry, string | undefined]>([
    [{ path: "a/b.tf", type: "File" }, undefined],
    [{ path: "./a/", type: "Directory" }, undefined],
    [{ path: "/etc/x", type: "File" }, "absolute path /etc/x"],
    [{ path: "C:/x", type: "File" }, "absolute path C:/x"],
    [{ path: "a/../../x", type: "File" }, "path a/../../x leaves the archive"],
    [{ path: "..", type: "Directory" }, "path .. leaves the archive"],
    [{ path: "a\\..\\..\\x", type: "File" }, "path a\\..\\..\\x leaves the archive"],
    [{ path: "dev", type: "CharacterDevice" }, "dev is a CharacterDevice, not a file, directory or symlink"],
    [{ path: "blk", type: "BlockDevice" }, "blk is a BlockDevice, not a file, directory or symlink"],
    [{ path: "p", type: "FIFO" }, "p is a FIFO, not a file, directory or symlink"],
    [{ path: "h", type: "Link", linkpath: "main.tf" }, "h is a Link, not a file, directory or symlink"],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "../../x" }, "symlink a/l points outside the archive (../../x)"],
    [{ path: "l", type: "SymbolicLink", linkpath: ".." }, "symlink l points outside the archive (..)"],
    [{ path: "l", type: "SymbolicLink", linkpath: "/etc" }, "symlink l points outside the archive (/etc)"],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "../b" }, undefined],
    [{ path: "a/l", type: "SymbolicLink", linkpath: "." }, undefined],
  ])("%j -> %s", (entry, problem) => {
    expect(unsafeEntry(entry)).toBe(problem);
  });
});

describe("unsafeArchive", () => {
  it.each<[string, TarEntry[], string | undefined]>([
    ["files below a directory", [{ path: "a/", type: "Directory" }, { path: "a/b", type: "File" }], undefined],
    ["a link beside files", [{ path: "l", type: "SymbolicLink", linkpath: "a" }, { path: "a/b", type: "File" }], undefined],
    ["a file through a link", [{ path: "l", type: "SymbolicLink", linkpath: "a" }, { path: "l/b", type: "File" }], "l/b goes through the symlink l"],
    [
      "a link through a link, one hop at a time",
      [
        { path: "a/", type: "Directory" },
        { path: "a/up", type: "SymbolicLink", linkpath: ".." },
        { path: "a/up/up2", type: "SymbolicLink", linkpath: ".." },
      ],
      "a/up/up2 goes through the symlink a/up",
    ],
    ["a link replaced by a directory", [{ path: "l", type: "SymbolicLink", linkpath: "a" }, { path: "l/", type: "Directory" }, { path: "l/b", type: "File" }], undefined],
  ])("%s", (_case, entries, problem) => {
    expect(unsafeArchive(entries)).toBe(problem);
  });
});

describe("unpackArchive", () => {
  it("extracts files, directories and inside links", async () => {
    const dest = await tempDir();
    await unpackArchive(
      handMadeTar([
        { path: "main.tf", type: "File", body: "x" },
        { path: "sub/", type: "Directory" },
        { path: "sub/a.tf", type: "File", body: "y" },
        { path: "sub/l", type: "SymbolicLink", linkpath: "../main.tf" },
      ]),
      dest,
    );
    expect(await readFile(join(dest, "main.tf"), "utf8")).toBe("x");
    expect(await readFile(join(dest, "sub/a.tf"), "utf8")).toBe("y");
    expect(await readlink(join(dest, "sub/l"))).toBe("../main.tf");
    expect(await readFile(join(dest, "sub/l"), "utf8")).toBe("x");
  });

  it.each<[string, HandMade[], RegExp]>([
    ["a path with ..", [{ path: "../escaped.tf", type: "File", body: "x" }], /path \.\.\/escaped\.tf leaves the archive/],
    ["a nested path with ..", [{ path: "a/../../escaped.tf", type: "File", body: "x" }], /leaves the archive/],
    ["an absolute path", [{ path: "/tmp/ktf-escaped.tf", type: "File", body: "x" }], /absolute path \/tmp\/ktf-escaped\.tf/],
    ["a link out of the tree", [{ path: "l", type: "SymbolicLink", linkpath: "../../etc" }], /symlink l points outside the archive/],
    ["an absolute link", [{ path: "l", type: "SymbolicLink", linkpath: "/etc" }], /symlink l points outside the archive \(\/etc\)/],
    ["a file written through a link", [{ path: "l", type: "SymbolicLink", linkpath: "." }, { path: "l/x.tf", type: "File", body: "x" }], /l\/x\.tf goes through the symlink l/],
    ["a character device", [{ path: "null", type: "CharacterDevice" }], /null is a CharacterDevice/],
    ["a hard link", [{ path: "main.tf", type: "File", body: "x" }, { path: "h", type: "Link", linkpath: "main.tf" }], /h is a Link/],
  ])("refuses %s, writing nothing", async (_case, entries, message) => {
    const dest = await tempDir();
    const attempt = unpackArchive(handMadeTar([{ path: "first.tf", type: "File", body: "x" }, ...entries]), dest);
    await expect(attempt).rejects.toThrow(IntegrityError);
    await expect(attempt).rejects.toThrow(message);
    expect(await readdir(dest)).toEqual([]);
    await expect(lstat(join(dest, "..", "escaped.tf"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses bytes that are not a tar.gz", async () => {
    const attempt = unpackArchive(gzipSync(Buffer.from("not a tar archive at all")), await tempDir());
    await expect(attempt).rejects.toThrow(IntegrityError);
  });

  it("refuses an archive that unpacks to more than the limit, and writes nothing", async () => {
    const dest = await tempDir();
    // Compresses to almost nothing, as a gzip bomb does.
    const big = "0".repeat(64 * 1024);
    const attempt = unpackArchive(handMadeTar([{ path: "a.tf", type: "File", body: big }, { path: "b.tf", type: "File", body: big }]), dest, 100 * 1024);
    await expect(attempt).rejects.toThrow(/unpacks to more than 102400 bytes/);
    expect(await readdir(dest)).toEqual([]);
  });
});
