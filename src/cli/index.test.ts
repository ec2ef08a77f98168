import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ENGINE_ENV_OPTIONS } from "./engine-args.js";
import { commandOptionTable, envName } from "./env-options.js";
import { buildProgram, main } from "./index.js";
import type { Terminal } from "./output/terminal.js";

/** The CLI in process, as `ktf ARGS` would run: what it printed and its exit code. */
async function ktf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const t = { stdout, stderr, stdin: new PassThrough(), env: { HOME: "/nonexistent", KUBECONFIG: "/nonexistent", ...env }, cwd: "/" } as unknown as Terminal;
  const never = () => Promise.reject(new Error("not in this test"));
  const code = await main(args, t, { operator: never, githubServe: never, runner: never, stateServer: never });
  return { code, stdout: out, stderr: err };
}

describe("the CLI's usage errors", () => {
  it("shows the operator's flags", async () => {
    const r = await ktf(["operator", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--watch-namespaces <list>/);
    expect(r.stdout).toMatch(/--backup <url>/);
  });

  it.each([
    [["install", "--dry-run", "--replicas", "abc"], '--replicas expects a whole number of at least 1, got "abc"'],
    [["install", "--dry-run", "--replicas", "0"], '--replicas expects a whole number of at least 1, got "0"'],
    [["install", "--dry-run", "--start-timeout", "soon"], '--start-timeout expects a whole number of at least 1, got "soon"'],
    [["install", "--dry-run", "--backup", "ftp://x"], "--backup expects s3://BUCKET/PREFIX or gs://BUCKET/PREFIX, got ftp://x"],
    [["install", "--dry-run", "--backup", "s3://b/p?colour=red"], "--backup s3://b/p: unknown setting colour (expected region or endpoint)"],
    [["install", "--dry-run", "--backup-secret", "s"], "--backup-secret needs --backup"],
  ])("ktf %j says what is wrong", async (args, message) => {
    const r = await ktf(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });

  it("renders the backup stores into the operator's flags", async () => {
    const r = await ktf(["install", "--dry-run", "--backup", "s3://b/p?region=eu-west-1", "--backup", "gs://g/q", "--backup-secret", "creds"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--backup=s3://b/p?region=eu-west-1");
    expect(r.stdout).toContain("--backup=gs://g/q");
    expect(r.stdout).toMatch(/secretRef:\s+name: creds/);
  });

  it.each([
    [["workspace", "list"]],
    [["plan", "-var", "x=1"]],
  ])("ktf %j hands --as-group to the connection, which wants --as with it", async (args) => {
    const dir = await mkdtemp(join(tmpdir(), "ktf-cli-"));
    try {
      const kubeconfig = join(dir, "config");
      await writeFile(kubeconfig, JSON.stringify({ "current-context": "c", clusters: [{ name: "k", cluster: { server: "https://127.0.0.1:1" } }], contexts: [{ name: "c", context: { cluster: "k" } }] }));
      const r = await ktf([...args, "--kubeconfig", kubeconfig, "--as-group", "dev"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("impersonation sets groups, a uid or extra fields but no user: set the user to act as (kubeconfig as, or --as)");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fails on a --kubeconfig that does not exist, although KUBECONFIG lists others", async () => {
    const r = await ktf(["workspace", "list", "--kubeconfig", "/nonexistent/config"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("kubeconfig /nonexistent/config does not exist");
  });
});

describe("options from the environment", () => {
  it("fill a command's options under its flags, over its defaults", async () => {
    const env = await ktf(["install", "--dry-run"], { KTF_OPERATOR_NAMESPACE: "ops", KTF_REPLICAS: "3" });
    expect(env.code).toBe(0);
    expect(env.stdout).toMatch(/name: ktf-operator\n\s+namespace: ops\n/);
    expect(env.stdout).toMatch(/replicas: 3\n/);
    const flag = await ktf(["install", "--dry-run", "--operator-namespace", "flag-ops"], { KTF_OPERATOR_NAMESPACE: "ops" });
    expect(flag.stdout).toMatch(/name: ktf-operator\n\s+namespace: flag-ops\n/);
    expect(flag.stdout).not.toMatch(/namespace: ops\n/);
    expect((await ktf(["install", "--dry-run"])).stdout).toMatch(/name: ktf-operator\n\s+namespace: ktf-system\n/);
  });

  it("are validated as flags are: KTF_REPLICAS goes through --replicas's check", async () => {
    const r = await ktf(["install", "--dry-run"], { KTF_REPLICAS: "abc" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--replicas expects a whole number of at least 1, got "abc"');
  });

  it("refuse a shard count out of range, and default it to the replica count", async () => {
    const bad = await ktf(["install", "--dry-run", "--shards", "65"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--shards expects a whole number from 1 to 64, got "65"');
    expect((await ktf(["install", "--dry-run", "--replicas", "3"])).stdout).toContain("--shards=3");
  });

  it.each([
    [["install"], { KTF_DRY_RUN: "yes" }, 'KTF_DRY_RUN expects true, false, 1 or 0, got "yes"'],
    [["workspace", "list"], { KTF_ALL_NAMESPACES: "on" }, 'KTF_ALL_NAMESPACES expects true, false, 1 or 0, got "on"'],
    [["plan", "-var", "x=1"], { KTF_DETACH: "maybe" }, 'KTF_DETACH expects true, false, 1 or 0, got "maybe"'],
  ])("ktf %j refuses a switch %j that is no boolean", async (args, env, message) => {
    const r = await ktf(args, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ktf: error: ${message}\n`);
  });

  it.each([[["workspace", "list"]], [["plan", "-var", "x=1"]], [["version", "-o", "json"]]])("ktf %j takes KTF_KUBECONFIG as --kubeconfig, and the flag over it", async (args) => {
    const env = await ktf(args, { KTF_KUBECONFIG: "/nonexistent/env-config" });
    expect(env.stdout + env.stderr).toContain("kubeconfig /nonexistent/env-config does not exist");
    const flag = await ktf([...args, "--kubeconfig", "/nonexistent/flag-config"], { KTF_KUBECONFIG: "/nonexistent/env-config" });
    expect(flag.stdout + flag.stderr).toContain("kubeconfig /nonexistent/flag-config does not exist");
  });

  it("are all in the README's environment table", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const inCluster = new Set(["operator", "serve", "runner", "state-server"]);
    const leaves = (c: Command): Command[] => (c.commands.length ? c.commands.flatMap(leaves) : [c]);
    const program = buildProgram({} as Terminal, () => undefined);
    const names = [...leaves(program).filter((c) => !inCluster.has(c.name())).flatMap(commandOptionTable), ...ENGINE_ENV_OPTIONS].map((o) => envName(o.long));
    const missing = [...new Set(names)].filter((name) => !readme.includes(`| \`${name}\``));
    expect(missing).toEqual([]);
  });
});

describe("ktf version", () => {
  it("shows its own version and says why it shows no other, without a cluster, and exits 0", async () => {
    const r = await ktf(["version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ktf: {7}\d+\.\d+\.\d+\noperator: {2}unknown: .+\nengine: {4}unknown: .+\n$/);
  });

  it.each([[["version", "-json"]], [["version", "--output", "json"]], [["version"], { KTF_OUTPUT: "json" }]])("ktf %j prints JSON", async (args, env: NodeJS.ProcessEnv = {}) => {
    const r = await ktf(args, env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ktf: { version: string }; operator: { error?: string } };
    expect(report.ktf.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.operator.error).toBeTruthy();
  });
});
