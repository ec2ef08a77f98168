// Checks by hand, without the cluster, that the real engines install the test provider from
// its mirror as they would from a registry (hashes, lock file, plugin cache) and that its
// resources and data sources work (apply, drift, cancel, exec):
//   node --import tsx scripts/check-provider.ts [tofu] [terraform]
// Not part of npm test: it needs the built engines and takes a minute or two.
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ObjectServer } from "../test/harness/object-server.js";
import { ProviderMirror } from "../test/harness/provider-mirror.js";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const ADDRESS = "registry.ktf.dev/ktf/ktftest";
const VERSION = shellValue("KTFTEST_PROVIDER_VERSION");
const TOKEN = `ktftest-${randomBytes(8).toString("hex")}`;

const CONFIG = `terraform {
  required_providers {
    ktftest = { source = "${ADDRESS}", version = "${VERSION}" }
  }
}
variable "endpoint" {
  type    = string
  default = null
}
variable "seconds" {
  type    = number
  default = 1
}
provider "ktftest" { endpoint = var.endpoint }
resource "ktftest_object" "greeting" {
  name    = "greeting"
  content = "hello"
}
resource "ktftest_sleep" "pause" { seconds = var.seconds }
resource "ktftest_blob" "big" { size = 1048576 }
data "ktftest_credentials" "token" {}
output "token_present" { value = data.ktftest_credentials.token.present }
output "token_sha256" { value = data.ktftest_credentials.token.sha256 }
output "blob_length" { value = length(ktftest_blob.big.data) }
data "ktftest_exec" "hostile" { command = ["sh", "-c", "echo out; echo err >&2; exit 3"] }
output "exec" { value = { stdout = data.ktftest_exec.hostile.stdout, stderr = data.ktftest_exec.hostile.stderr, exit_code = data.ktftest_exec.hostile.exit_code } }
# The provider's environment (the token's length, not the token), one variable added and one
# overridden, and working_dir.
data "ktftest_exec" "environment" {
  command     = ["sh", "-c", "echo \\"$KTFTEST_EXEC_GREETING $\${#KTFTEST_TOKEN} $TF_VAR_endpoint $(pwd)\\""]
  environment = { KTFTEST_EXEC_GREETING = "hi", TF_VAR_endpoint = "overridden" }
  working_dir = "/tmp"
}
output "exec_environment" { value = data.ktftest_exec.environment.stdout }
`;

/** A program that cannot be started: plan, which reads data sources, must fail naming it. */
const UNSTARTABLE = `terraform {
  required_providers {
    ktftest = { source = "${ADDRESS}", version = "${VERSION}" }
  }
}
data "ktftest_exec" "missing" { command = ["ktftest-no-such-program", "--flag"] }
`;

interface Result {
  code: number;
  out: string;
  seconds: number;
}

let failures = 0;
function check(what: string, ok: boolean, detail: string): void {
  if (!ok) failures++;
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}: ${detail}`);
}

function shellValue(name: string): string {
  return execFileSync("bash", ["-c", `source scripts/versions.sh && echo "$${name}"`], { cwd: ROOT, encoding: "utf8" }).trim();
}

/** Runs the engine; `onOutput` sees its output as it comes, with a way to interrupt it. */
function engine(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, onOutput?: (out: string, interrupt: () => void) => void): Promise<Result> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args, "-no-color"], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const collect = (d: Buffer) => {
      out += d.toString();
      onOutput?.(out, () => child.kill("SIGINT"));
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out, seconds: (Date.now() - started) / 1000 }));
  });
}

function summary(r: Result): string {
  return `exit ${r.code} in ${r.seconds.toFixed(1)} s`;
}

/** The engine's first error, its box joined into one line, for the report. */
function firstError(out: string): string {
  const lines = out.split("\n");
  const start = lines.findIndex((l) => l.includes("Error:"));
  if (start < 0) return "";
  const end = lines.findIndex((l, i) => i > start && l.startsWith("╵"));
  const text = lines.slice(start, end < 0 ? undefined : end).map((l) => l.replace(/^[│╷\s]+/, "").trim());
  return `"${text.filter(Boolean).join(" ")}"`;
}

/** The lines of the engine's output that `pattern` finds, for the report. */
function quoted(out: string, pattern: RegExp): string {
  return out.split("\n").filter((l) => pattern.test(l)).map((l) => `"${l.replace(/^[│╷╵\s]+/, "").trim()}"`).join(" ");
}

function lockHashes(dir: string): string[] {
  const lock = join(dir, ".terraform.lock.hcl");
  if (!existsSync(lock)) return [];
  return [...readFileSync(lock, "utf8").matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1] ?? "");
}

/** Mirror requests since `before`, as "index.json×1 0.1.0.json×1 …zip×1". */
function requestsSince(mirror: ProviderMirror, before: Map<string, number>): { text: string; zips: number } {
  const delta = [...mirror.requests].map(([path, n]) => [path, n - (before.get(path) ?? 0)] as const).filter(([, n]) => n > 0);
  const zips = delta.filter(([path]) => path.endsWith(".zip")).reduce((sum, [, n]) => sum + n, 0);
  return { text: delta.map(([path, n]) => `${path.split("/").pop()}×${n}`).join(" ") || "none", zips };
}

function workdir(base: string, name: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.tf"), CONFIG);
  return dir;
}

function cliConfig(base: string, name: string, body: string): string {
  const file = join(base, `${name}.tfrc`);
  writeFileSync(file, body);
  return file;
}

/** One engine's run of the checks: its own mirror server, object server and directories. */
interface Check {
  bin: string;
  base: string;
  mirrorDir: string;
  mirror: ProviderMirror;
  objects: ObjectServer;
  /** The h1: hash the mirror publishes. */
  h1: string;
  networkMirror: string;
  env: NodeJS.ProcessEnv;
}

async function checkEngine(name: string, bin: string, mirrorDir: string): Promise<void> {
  console.log(`\n${name}: ${execFileSync(bin, ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]}`);
  const base = mkdtempSync(join(tmpdir(), `ktf-check-provider-${name}-`));
  const mirror = new ProviderMirror({ dir: mirrorDir });
  const objects = new ObjectServer();
  await mirror.start();
  await objects.start();
  const published = JSON.parse(readFileSync(join(mirrorDir, ADDRESS, `${VERSION}.json`), "utf8")) as { archives: Record<string, { hashes: string[] }> };
  const networkMirror = `network_mirror {\n    url     = "${mirror.url}"\n    include = ["registry.ktf.dev/*/*"]\n  }`;
  const c: Check = {
    bin, base, mirrorDir, mirror, objects, networkMirror,
    h1: published.archives.linux_amd64?.hashes.find((h) => h.startsWith("h1:")) ?? "",
    env: {
      TF_CLI_CONFIG_FILE: cliConfig(base, "network", `provider_installation {\n  ${networkMirror}\n}\n`),
      SSL_CERT_FILE: mirror.caFile,
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      TF_VAR_endpoint: objects.url,
      KTFTEST_TOKEN: TOKEN,
    },
  };
  try {
    await checkUntrustedMirror(c);
    const dir = workdir(base, "network");
    await checkNetworkMirror(c, dir);
    await checkTamperedLock(c, dir);
    await checkUnstartableExec(c);
    await checkPluginCache(c);
    await checkFilesystemMirror(c);
  } finally {
    await mirror.stop();
    await objects.stop();
    if (process.env.KTF_KEEP_CHECK) console.log(`  kept ${base}`);
    else rmSync(base, { recursive: true, force: true });
  }
}

/** Without the mirror's CA (SSL_CERT_FILE) the engine must refuse its certificate. */
async function checkUntrustedMirror(c: Check): Promise<void> {
  const { SSL_CERT_FILE: _ca, ...env } = c.env;
  const r = await engine(c.bin, ["init"], workdir(c.base, "untrusted"), env);
  check("init without SSL_CERT_FILE is refused", r.code !== 0 && r.out.includes("certificate signed by unknown authority"), `${summary(r)}; ${quoted(r.out.replace(/\n(?!\n)/g, " "), /x509/)}`);
}

/** Init from the network mirror, apply, drift made on the object server, Ctrl-C, destroy. */
async function checkNetworkMirror(c: Check, dir: string): Promise<void> {
  const { bin, env, objects } = c;
  const before = new Map(c.mirror.requests);
  let r = await engine(bin, ["init"], dir, env);
  const hashes = lockHashes(dir);
  check("init from the network mirror", r.code === 0 && hashes.includes(c.h1), `${summary(r)}; lock file hashes ${hashes.join(", ") || "none"} (mirror's h1 ${c.h1}); requests ${requestsSince(c.mirror, before).text}`);
  if (r.code !== 0) console.log(r.out);

  r = await engine(bin, ["apply", "-auto-approve"], dir, env);
  const outputs = JSON.parse(execFileSync(bin, ["output", "-json"], { cwd: dir, env: { ...process.env, ...env }, encoding: "utf8" }) || "{}") as Record<string, { value: unknown }>;
  const state = readFileSync(join(dir, "terraform.tfstate"), "utf8");
  const sha = createHash("sha256").update(TOKEN).digest("hex");
  check("apply", r.code === 0 && objects.objects.get("greeting") === "hello", `${summary(r)}; object server has greeting=${JSON.stringify(objects.objects.get("greeting"))}`);
  check("credentials data source", outputs.token_present?.value === true && outputs.token_sha256?.value === sha && !state.includes(TOKEN), `present=${String(outputs.token_present?.value)}, sha256 matches=${String(outputs.token_sha256?.value === sha)}, token in state=${String(state.includes(TOKEN))}`);
  check("blob", outputs.blob_length?.value === 1048576, `length(data)=${String(outputs.blob_length?.value)}, state ${state.length} bytes`);
  const exec = outputs.exec?.value as { stdout?: string; stderr?: string; exit_code?: number } | undefined;
  check("exec data source: output and a non-zero exit", exec?.stdout === "out\n" && exec.stderr === "err\n" && exec.exit_code === 3, `stdout=${JSON.stringify(exec?.stdout)}, stderr=${JSON.stringify(exec?.stderr)}, exit_code=${String(exec?.exit_code)}`);
  const execEnvironment = `hi ${TOKEN.length} overridden /tmp\n`;
  check("exec data source: environment and working_dir", outputs.exec_environment?.value === execEnvironment, `stdout=${JSON.stringify(outputs.exec_environment?.value)} (expected ${JSON.stringify(execEnvironment)})`);

  const objectLine = (out: string) => `"${/# ktftest_object\.greeting[^\n]*/.exec(out)?.[0] ?? ""}"`;
  r = await engine(bin, ["plan", "-detailed-exitcode"], dir, env);
  check("plan without drift", r.code === 0, summary(r));
  objects.objects.delete("greeting");
  r = await engine(bin, ["plan", "-detailed-exitcode"], dir, env);
  check("plan after deleting the object out of band", r.code === 2 && r.out.includes("ktftest_object.greeting will be created"), `${summary(r)}; ${objectLine(r.out)}`);
  objects.objects.set("greeting", "changed behind its back");
  r = await engine(bin, ["plan", "-detailed-exitcode"], dir, env);
  check("plan after changing the object out of band", r.code === 2 && r.out.includes("updated in-place"), `${summary(r)}; ${objectLine(r.out)}`);
  r = await engine(bin, ["apply", "-auto-approve"], dir, env);
  check("apply repairs the drift", r.code === 0 && objects.objects.get("greeting") === "hello", summary(r));

  // Ctrl-C during a 300 s sleep: the engine stops the provider, whose context ends the sleep.
  let interrupted = 0;
  r = await engine(bin, ["apply", "-auto-approve", "-var", "seconds=300"], dir, env, (out, interrupt) => {
    if (!interrupted && out.includes("ktftest_sleep.pause: Creating...")) {
      interrupted = Date.now();
      setTimeout(interrupt, 1000);
    }
  });
  const afterInterrupt = interrupted ? (Date.now() - interrupted) / 1000 - 1 : NaN;
  check("SIGINT during a 300 s ktftest_sleep", r.code !== 0 && afterInterrupt < 15 && /Sleep interrupted/.test(r.out), `${summary(r)}, ${afterInterrupt.toFixed(1)} s after SIGINT; ${quoted(r.out, /Sleep interrupted|context canceled|Interrupt received/)}`);

  r = await engine(bin, ["destroy", "-auto-approve"], dir, env);
  check("destroy", r.code === 0 && !objects.objects.has("greeting"), summary(r));

  objects.objects.set("greeting", "made elsewhere");
  r = await engine(bin, ["import", "ktftest_object.greeting", "greeting"], dir, env);
  const plan = await engine(bin, ["plan", "-detailed-exitcode", "-target", "ktftest_object.greeting"], dir, env);
  check("import an object by name", r.code === 0 && plan.code === 2 && plan.out.includes("updated in-place"), `${summary(r)}; then plan ${summary(plan)}, ${objectLine(plan.out)}`);
  r = await engine(bin, ["destroy", "-auto-approve"], dir, env);
  check("destroy", r.code === 0 && !objects.objects.has("greeting"), summary(r));
}

async function checkUnstartableExec(c: Check): Promise<void> {
  const dir = join(c.base, "unstartable");
  mkdirSync(dir);
  writeFileSync(join(dir, "main.tf"), UNSTARTABLE);
  let r = await engine(c.bin, ["init"], dir, c.env);
  if (r.code === 0) r = await engine(c.bin, ["plan"], dir, c.env);
  check("exec data source: a program that cannot start fails the plan, naming it", r.code !== 0 && r.out.includes("Could not start the command") && r.out.includes("ktftest-no-such-program"), `${summary(r)}; ${firstError(r.out)}`);
}

/** A lock file whose hashes the package does not match: init must refuse it. */
async function checkTamperedLock(c: Check, dir: string): Promise<void> {
  const lock = join(dir, ".terraform.lock.hcl");
  // Any one recorded hash that matches accepts a package, so all of them are replaced.
  writeFileSync(lock, readFileSync(lock, "utf8").replace(/hashes = \[[^\]]*\]/, `hashes = ["h1:${"A".repeat(43)}="]`));
  rmSync(join(dir, ".terraform"), { recursive: true, force: true });
  const r = await engine(c.bin, ["init"], dir, c.env);
  check("init with a tampered lock file fails", r.code !== 0 && /checksum/i.test(r.out), `${summary(r)}; ${firstError(r.out)}`);
}

/**
 * The first init fills the plugin cache; an init with the same lock file takes the package
 * from it. Without a lock file, whether the cache is used is each engine's choice: shown only.
 */
async function checkPluginCache(c: Check): Promise<void> {
  const cacheDir = join(c.base, "plugin-cache");
  mkdirSync(cacheDir);
  const env = { ...c.env, TF_CLI_CONFIG_FILE: cliConfig(c.base, "cache", `plugin_cache_dir = "${cacheDir}"\nprovider_installation {\n  ${c.networkMirror}\n}\n`) };
  const init = async (dir: string) => {
    const before = new Map(c.mirror.requests);
    const r = await engine(c.bin, ["init"], dir, env);
    return { r, got: requestsSince(c.mirror, before) };
  };
  const first = workdir(c.base, "cache-first");
  let { r, got } = await init(first);
  check("init with an empty plugin cache downloads", r.code === 0 && got.zips === 1, `${summary(r)}; requests ${got.text}`);
  const second = workdir(c.base, "cache-second");
  cpSync(join(first, ".terraform.lock.hcl"), join(second, ".terraform.lock.hcl"));
  ({ r, got } = await init(second));
  check("second init (same lock file) uses the cache", r.code === 0 && got.zips === 0, `${summary(r)}; requests ${got.text}`);
  ({ r, got } = await init(workdir(c.base, "cache-fresh")));
  console.log(`  info init in a fresh directory (no lock file) with a filled cache: ${summary(r)}; requests ${got.text}`);
}

/** The packed filesystem mirror, no server; the endpoint comes from KTFTEST_ENDPOINT this time. */
async function checkFilesystemMirror(c: Check): Promise<void> {
  const dir = workdir(c.base, "filesystem");
  const { TF_VAR_endpoint: _fromVariable, ...rest } = c.env;
  const env = {
    ...rest,
    KTFTEST_ENDPOINT: c.objects.url,
    TF_CLI_CONFIG_FILE: cliConfig(c.base, "filesystem", `provider_installation {\n  filesystem_mirror {\n    path    = "${c.mirrorDir}"\n    include = ["registry.ktf.dev/*/*"]\n  }\n}\n`),
  };
  const before = new Map(c.mirror.requests);
  let r = await engine(c.bin, ["init"], dir, env);
  const hashes = lockHashes(dir);
  check("init from the filesystem mirror", r.code === 0 && hashes.includes(c.h1) && requestsSince(c.mirror, before).text === "none", `${summary(r)}; lock file hashes ${hashes.join(", ") || "none"}; network mirror requests ${requestsSince(c.mirror, before).text}`);
  r = await engine(c.bin, ["apply", "-auto-approve"], dir, env);
  check("apply with the endpoint from KTFTEST_ENDPOINT", r.code === 0 && c.objects.objects.get("greeting") === "hello", summary(r));
  r = await engine(c.bin, ["destroy", "-auto-approve"], dir, env);
  check("destroy", r.code === 0 && !c.objects.objects.has("greeting"), summary(r));
}

const binCache = shellValue("KTF_BIN_CACHE");
const engines: Record<string, string> = {
  tofu: join(binCache, `tofu-${shellValue("TOFU_VERSION")}`, "tofu"),
  terraform: join(binCache, `terraform-${shellValue("TERRAFORM_VERSION")}`, "terraform"),
};
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(engines);
const mirrorDir = execFileSync(join(ROOT, "scripts/build-provider.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop() ?? "";
console.log(`mirror ${mirrorDir}`);
for (const name of chosen) {
  const bin = engines[name];
  if (!bin) throw new Error(`unknown engine ${name}: expected tofu or terraform`);
  await checkEngine(name, bin, mirrorDir);
}
console.log(failures ? `\n${failures} check(s) failed` : "\nall checks passed");
process.exitCode = failures ? 1 : 0;
