import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { hclModuleCalls, isLocalSource, jsonModuleCalls, localModuleCalls } from "./module-sources.js";

describe("hclModuleCalls", () => {
  it.each([
    ["a plain block", 'module "net" {\n  source = "../net"\n}\n', [{ name: "net", source: "../net" }]],
    ["a one-line block", 'module "a" { source = "./a" }\n', [{ name: "a", source: "./a" }]],
    ["an identifier label", "module b {\n  source = \"./b\"\n}\n", [{ name: "b", source: "./b" }]],
    ["a registry source", 'module "r" {\n  source  = "hashicorp/consul/aws"\n  version = "1.0"\n}\n', [{ name: "r", source: "hashicorp/consul/aws" }]],
    ["an escaped quote", 'module "q" {\n  source = "./a\\"b"\n}\n', [{ name: "q", source: './a"b' }]],
    ["a provisioner's source", 'resource "x" "y" {\n  provisioner "file" {\n    source = "../scripts/run.sh"\n  }\n}\n', []],
    ["required_providers' source", 'terraform {\n  required_providers {\n    aws = { source = "./not-a-module" }\n  }\n}\n', []],
    ["a source nested in an object of a module", 'module "m" {\n  source = "./m"\n  tags = {\n    source = "./x"\n  }\n}\n', [{ name: "m", source: "./m" }]],
    ["a commented-out block", '# module "old" {\n#   source = "../old"\n# }\n/* module "c" {\n source = "./c"\n} */\n// module "d" { source = "./d" }\n', []],
    [
      "braces and quotes in templates and heredocs before the call",
      'locals {\n  a = "${join("}", ["{"])}"\n  b = <<-EOT\n    module "h" {\n      source = "./h"\n    }\n  EOT\n}\nmodule "after" {\n  source = "./after"\n}\n',
      [{ name: "after", source: "./after" }],
    ],
    ["a templated source, which terraform refuses", 'module "t" {\n  source = "./${var.x}"\n}\n', []],
    ["a value that merely names source", 'module "v" {\n  source = "./v"\n  x = source\n}\n', [{ name: "v", source: "./v" }]],
    ["two modules", 'module "a" {\n  source = "./a"\n}\n\nmodule "b" {\n  source = "../b"\n}\n', [{ name: "a", source: "./a" }, { name: "b", source: "../b" }]],
  ])("%s", (_case, text, calls) => {
    expect(hclModuleCalls(text)).toEqual(calls);
  });
});

describe("jsonModuleCalls", () => {
  it.each([
    ["an object of objects", { module: { a: { source: "./a" } } }, [{ name: "a", source: "./a" }]],
    ["arrays at both levels", { module: [{ a: [{ source: "../a" }] }, { b: { source: "./b" } }] }, [{ name: "a", source: "../a" }, { name: "b", source: "./b" }]],
    ["no modules", { resource: { x: { y: { source: "./z" } } } }, []],
    ["not an object", 42, []],
  ])("%s", (_case, config, calls) => {
    expect(jsonModuleCalls(config)).toEqual(calls);
  });
});

describe("isLocalSource", () => {
  it.each([
    ["./x", true],
    ["../x", true],
    ["x", false],
    ["git::https://example.com/x.git", false],
    [".../x", false],
  ])("%s -> %s", (source, local) => {
    expect(isLocalSource(source)).toBe(local);
  });
});

describe("localModuleCalls", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it("reads .tf, .tofu and .tf.json files directly in the directory, local sources only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ktf-modules-"));
    dirs.push(dir);
    await writeFile(join(dir, "main.tf"), 'module "a" {\n  source = "./a"\n}\nmodule "r" {\n  source = "org/r/aws"\n}\n');
    await writeFile(join(dir, "x.tofu"), 'module "b" {\n  source = "../b"\n}\n');
    await writeFile(join(dir, "y.tf.json"), JSON.stringify({ module: { c: { source: "./c" } } }));
    await writeFile(join(dir, "notes.md"), 'module "n" {\n  source = "./n"\n}\n');
    await mkdir(join(dir, "sub.tf"));
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "sub", "main.tf"), 'module "s" {\n  source = "./s"\n}\n');
    expect((await localModuleCalls(dir)).map((c) => [c.name, c.source, c.file])).toEqual([
      ["a", "./a", join(dir, "main.tf")],
      ["b", "../b", join(dir, "x.tofu")],
      ["c", "./c", join(dir, "y.tf.json")],
    ]);
  });

  it("names a .tf.json file that is not JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ktf-modules-"));
    dirs.push(dir);
    await writeFile(join(dir, "bad.tf.json"), "{ nope");
    await expect(localModuleCalls(dir)).rejects.toThrow(UsageError);
    await expect(localModuleCalls(dir)).rejects.toThrow(/bad\.tf\.json is not valid JSON/);
  });
});
