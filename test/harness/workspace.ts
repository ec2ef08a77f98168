import { chmod, mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runSchema, type Run } from "../../src/api/run.js";
import { connectToCluster } from "../../src/kube/connect.js";
import type { HttpKubeClient } from "../../src/kube/http-client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { harness, ktf, kubectl, testNamespace, type KtfResult, type KtfRunOptions } from "./cluster.js";

/** A configuration directory with these files, removed by `remove`. */
export async function configDir(files: Record<string, string | Buffer>): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "ktf-e2e-"));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A test's own world: a namespace, a configuration directory and a workspace selected for
 * it, and the CLI bound to both. `cleanup` removes all of it.
 */
export async function workspaceFixture(prefix: string, files: Record<string, string | Buffer>, newArgs: string[] = []) {
  const ns = await testNamespace(prefix);
  const cfg = await configDir(files);
  const client: HttpKubeClient = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  const run = (args: string[], options: Omit<KtfRunOptions, "cwd"> = {}): Promise<KtfResult> =>
    ktf(args, { cwd: cfg.dir, ...options });
  const created = await run(["workspace", "new", "main", "-n", ns.name, ...newArgs]);
  if (created.code !== 0) throw new Error(`workspace new failed: ${created.stderr}`);
  return {
    ns: ns.name,
    dir: cfg.dir,
    client,
    ktf: run,
    async runs(): Promise<Run[]> {
      const list = await client.list(RESOURCES.Run, ns.name);
      return list.items.map((r) => runSchema.parse(r)).sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
    },
    async cleanup() {
      client.close();
      await cfg.remove();
      await ns.remove();
    },
  };
}

/** The name of the run a ktf invocation created, from its first note. */
export function runNameIn(result: KtfResult): string {
  const m = /ktf: run (\S+) \(workspace/.exec(result.stderr);
  if (!m?.[1]) throw new Error(`no run in the output:\n${result.stderr}`);
  return m[1];
}

export const HELLO = `
variable "greeting" {
  type    = string
  default = "hello"
}
resource "terraform_data" "server" {
  count = 2
  input = "\${var.greeting}-server-\${count.index}"
}
output "servers" {
  value = terraform_data.server[*].output
}
`;

/**
 * A resource whose provisioner sleeps var.seconds; a new var.tag replaces it, so every apply
 * with a new tag takes that long (and holds the state lock meanwhile).
 */
export const SLOW = `
variable "tag" {
  type = string
}
variable "seconds" {
  type    = number
  default = 4
}
resource "terraform_data" "slow" {
  triggers_replace = var.tag
  provisioner "local-exec" {
    command = "sleep \${var.seconds}"
  }
}
`;

/**
 * A provider cache volume for the fixture's workspace: there is no dynamic provisioner
 * here, so a static hostPath volume of a storage class of the test's own. `hostDir` is
 * what the runs see at /ktf/cache; `remove` deletes the volume and the directory.
 */
export async function cacheVolume(w: { ns: string }, workspace = "main"): Promise<{ hostDir: string; remove: () => Promise<void> }> {
  const hostDir = `/var/lib/ktf/test-volumes/${w.ns}`;
  await mkdir(hostDir, { recursive: true });
  // hostPath volumes get no fsGroup ownership: let the run's user write.
  await chmod(hostDir, 0o777);
  await kubectl(["apply", "-f", "-"], {
    input: `apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: ${w.ns}}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: ${w.ns}\n  hostPath: {path: ${hostDir}, type: Directory}\n`,
  });
  await kubectl(["-n", w.ns, "patch", "workspace", workspace, "--type=merge", "-p", JSON.stringify({ spec: { cache: { size: "100Mi", storageClassName: w.ns } } })]);
  return {
    hostDir,
    async remove() {
      await kubectl(["delete", "pv", w.ns, "--wait=false"]).catch(() => undefined);
      await rm(hostDir, { recursive: true, force: true });
    },
  };
}
