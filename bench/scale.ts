// Benchmark: the operator's own work at scale. W workspaces with R runs each, in one
// namespace, whose pods no node may take (a node selector no node matches), so that what is
// measured is the operator, not the node: its RSS before and after, how long each Run waits
// from its creation to its first status (Queued or Pending) as a watcher here sees it, p50
// and p99, and how long until every run has one. Prints the figures of this one run. Needs the
// cluster up and ktf installed (npm run demo, or the e2e setup with KTF_KEEP_CLUSTER=1).
//   node --import tsx bench/scale.ts [workspaces] [runsPerWorkspace]
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connectToCluster } from "../src/kube/connect.js";
import { Informer } from "../src/kube/informer.js";
import type { KubeObject } from "../src/kube/client.js";
import { RESOURCES } from "../src/kube/resources.js";
import { silentLogger } from "../src/log.js";

const root = join(new URL("..", import.meta.url).pathname);
const workspaces = Number(process.argv[2] ?? 1000);
const runsEach = Number(process.argv[3] ?? 5);
const env = Object.fromEntries(execFileSync(join(root, "scripts/cluster.sh"), ["env"], { encoding: "utf8" }).trim().split("\n").map((l) => l.split("=", 2))) as Record<string, string>;
const kubeconfig = env.KUBECONFIG ?? "";
const kubectl = env.KUBECTL ?? "kubectl";
const ns = `bench-scale-${Date.now().toString(36)}`;
const client = connectToCluster({ kubeconfig }).client;

/** The operator's resident memory, read from /proc: the single-node cluster runs it on this machine. */
function operatorRssMb(): number {
  const pids = spawnSync("pgrep", ["-f", "/opt/ktf/dist/bin/ktf.js operator"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  const kb = pids.map((pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0));
  return Math.max(0, ...kb) / 1024;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

execFileSync(kubectl, ["--kubeconfig", kubeconfig, "create", "namespace", ns]);
const created = new Map<string, number>();
const firstStatus = new Map<string, number>();
const watcher = new Informer<KubeObject & { status?: { phase?: string } }>(client, RESOURCES.Run, { namespace: ns, log: silentLogger() }).on({
  upsert: (r) => {
    const name = r.metadata.name ?? "";
    if (r.status?.phase && !firstStatus.has(name)) firstStatus.set(name, performance.now());
  },
});
try {
  await watcher.start();
  const rssBefore = operatorRssMb();
  const t0 = performance.now();
  const names = Array.from({ length: workspaces }, (_, i) => `ws-${i}`);
  await inBatches(names, 50, (name) =>
    client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name, namespace: ns }, spec: { nodeSelector: { "ktf.dev/bench": "no-such-node" } } }),
  );
  const runs = names.flatMap((ws) => Array.from({ length: runsEach }, (_, j) => ({ ws, name: `${ws}-run-${j}` })));
  await inBatches(runs, 50, async (r) => {
    created.set(r.name, performance.now());
    await client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name: r.name, namespace: ns }, spec: { workspace: r.ws, command: "plan" } });
  });
  const createdAll = performance.now();
  const deadline = Date.now() + 30 * 60_000;
  while (firstStatus.size < runs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const drained = performance.now();
  const statused = firstStatus.size;
  const waits = runs.flatMap((r) => {
    const a = created.get(r.name);
    const b = firstStatus.get(r.name);
    return a !== undefined && b !== undefined ? [b - a] : [];
  });
  // Once the backlog is drained: new runs one at a time, each to a workspace with a queue already.
  const steady: number[] = [];
  for (let i = 0; i < 20; i++) {
    const name = `steady-${i}`;
    const t = performance.now();
    created.set(name, t);
    await client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name, namespace: ns }, spec: { workspace: names[i % names.length] ?? "", command: "plan" } });
    while (!firstStatus.has(name) && performance.now() - t < 60_000) await new Promise((r) => setTimeout(r, 2));
    steady.push((firstStatus.get(name) ?? NaN) - t);
  }
  await new Promise((r) => setTimeout(r, 10_000));
  const rssAfter = operatorRssMb();
  console.log(`${workspaces} workspaces x ${runsEach} runs = ${runs.length} runs (pods unschedulable)`);
  console.log(`created in ${((createdAll - t0) / 1000).toFixed(1)} s; every run had a status ${((drained - t0) / 1000).toFixed(1)} s after the first was made (${statused}/${runs.length})`);
  console.log(`run created -> first status, in the backlog: p50 ${percentile(waits, 50).toFixed(0)} ms, p99 ${percentile(waits, 99).toFixed(0)} ms`);
  console.log(`run created -> first status, backlog drained (20 runs, one at a time): p50 ${percentile(steady, 50).toFixed(0)} ms, p99 ${percentile(steady, 99).toFixed(0)} ms (target p99 <= 100 ms)`);
  console.log(`operator RSS: ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after (target <= 200 MB)`);
} finally {
  await watcher.stop();
  client.close();
  spawnSync(kubectl, ["--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=false"]);
}
