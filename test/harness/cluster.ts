import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";

const exec = promisify(execFile);

export const ROOT = join(new URL("../..", import.meta.url).pathname);
export const KTF_BIN = join(ROOT, "dist/bin/ktf.js");

/** What global setup prepared: the cluster's admin kubeconfig and the ktf image it loaded. */
export function harness(): { kubeconfig: string; image: string; kubectl: string; clusterScript: string; stores: Record<string, string>; stockApi: boolean; nodeIp: string; providerMirrorDir: string; otf: Record<string, string>; installArgs: string[] } {
  return {
    kubeconfig: inject("kubeconfig"),
    image: inject("image"),
    kubectl: inject("kubectl"),
    clusterScript: join(ROOT, "scripts/cluster.sh"),
    stores: inject("stores"),
    stockApi: inject("stockApi"),
    nodeIp: inject("nodeIp"),
    providerMirrorDir: inject("providerMirrorDir"),
    otf: inject("otf"),
    installArgs: inject("installArgs"),
  };
}

export async function kubectl(args: string[], options: { input?: string; kubeconfig?: string } = {}): Promise<string> {
  const h = harness();
  return new Promise((resolve, reject) => {
    const child = spawn(h.kubectl, ["--kubeconfig", options.kubeconfig ?? h.kubeconfig, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")} failed (${code}): ${err}`))));
    child.stdin.end(options.input ?? "");
  });
}

export interface KtfResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KtfRunOptions {
  cwd: string;
  kubeconfig?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Sees the output as it comes, and the process (to signal it). */
  onStdout?: (chunk: string, child: ChildProcess) => void;
}

/** Runs the built CLI as a user would, in `cwd`, and collects what it printed. */
export function ktf(args: string[], options: KtfRunOptions): Promise<KtfResult> {
  const h = harness();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KTF_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, KUBECONFIG: options.kubeconfig ?? h.kubeconfig, NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(d.toString(), child);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

/** A namespace of the test's own (restricted pod security); `remove` deletes it and waits until it is gone. */
export async function testNamespace(prefix: string, extraLabels: Record<string, string> = {}): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  // Every test namespace enforces the restricted Pod Security Standard: all ktf's pods must pass it.
  const labels = { "pod-security.kubernetes.io/enforce": "restricted", ...extraLabels };
  const labelYaml = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`).join("\n");
  await kubectl(["apply", "-f", "-"], {
    input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n${labelYaml ? `  labels:\n${labelYaml}\n` : ""}`,
  });
  // Pods can be created once the namespace's default ServiceAccount exists.
  await waitFor(async () => (await kubectl(["-n", name, "get", "serviceaccount", "default", "-o", "name"]).catch(() => "")) !== "", 30_000);
  return {
    name,
    remove: async () => {
      await kubectl(["delete", "namespace", name, "--wait=true", "--timeout=120s"]).catch(() => undefined);
    },
  };
}

/** Polls until `check` returns true (or a value), or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | false | undefined | Promise<T | false | undefined>, timeoutMs: number, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function sh(command: string, args: string[]): Promise<string> {
  const { stdout } = await exec(command, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
