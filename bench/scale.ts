// Benchmark: the operator's own work at scale. W workspaces with R runs each, in one
// namespace, whose pods no node may take (a node selector no node matches), so that what is
// measured is the operator, not the node. Prints, for this one run: the operators' RSS before
// and after; how long each Run waits from its creation to its first status (Queued or
// Pending) as a watcher here sees it, p50 and p99, in the backlog and once it is drained; the
// API requests the operators made per run (their ktf_api_requests_total); and how long the
// operators take to look at everything again after all of them are restarted.
// With --replicas N the operator is first set to N replicas and N shards, and set back after.
// Needs the cluster up and ktf installed (npm run demo, or the e2e setup with KTF_KEEP_CLUSTER=1).
//   node --import tsx bench/scale.ts [workspaces] [runsPerWorkspace] [--replicas N]
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connectToCluster } from "../src/kube/connect.js";
import { Informer } from "../src/kube/informer.js";
import type { KubeObject } from "../src/kube/client.js";
import { RESOURCES } from "../src/kube/resources.js";
import { silentLogger } from "../src/log.js";

const root = join(new URL("..", import.meta.url).pathname);
const { values, positionals } = parseArgs({ options: { replicas: { type: "string" } }, allowPositionals: true });
const workspaces = Number(positionals[0] ?? 1000);
const runsEach = Number(positionals[1] ?? 5);
const replicas = values.replicas ? Number(values.replicas) : undefined;
const env = Object.fromEntries(execFileSync(join(root, "scripts/cluster.sh"), ["env"], { encoding: "utf8" }).trim().split("\n").map((l) => l.split("=", 2))) as Record<string, string>;
const kubeconfig = env.KUBECONFIG ?? "";
const kubectl = (...args: string[]) => execFileSync(env.KUBECTL ?? "kubectl", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
const ns = `bench-scale-${Date.now().toString(36)}`;
const client = connectToCluster({ kubeconfig }).client;
const OPERATOR = ["-n", "ktf-system"];

/** The operators' resident memory, read from /proc: the single-node cluster runs them on this machine. */
function operatorRssMb(): number[] {
  const pids = spawnSync("pgrep", ["-f", "/opt/ktf/dist/bin/ktf.js operator"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  return pids.map((pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);
}

/** The running operator pods. */
function operatorPods(): string[] {
  const pods = JSON.parse(kubectl(...OPERATOR, "get", "pods", "-l", "app.kubernetes.io/component=operator", "-o", "json")) as { items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase: string } }[] };
  return pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === "Running").map((p) => p.metadata.name);
}

/** A metric summed over the operator pods (through the API server's pod proxy); NaN when no pod has it. */
function metric(name: string, pods = operatorPods()): number {
  let sum = NaN;
  for (const pod of pods) {
    const text = spawnSync(env.KUBECTL ?? "kubectl", ["--kubeconfig", kubeconfig, "get", "--raw", `/api/v1/namespaces/ktf-system/pods/${pod}:8080/proxy/metrics`], { encoding: "utf8" }).stdout;
    for (const line of text.split("\n")) {
      if (!line.startsWith(name) || !/^[a-z_]+(\{[^}]*\})? /.test(line) || line.split(/[{ ]/)[0] !== name) continue;
      sum = (Number.isNaN(sum) ? 0 : sum) + Number(line.split(" ").pop());
    }
  }
  return sum;
}

type Deployment = KubeObject & { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } };
/** Sets the operator to n replicas and n shards; returns the Deployment as it was. */
function setReplicas(n: number): Deployment {
  const before = JSON.parse(kubectl(...OPERATOR, "get", "deploy", "ktf-operator", "-o", "json")) as Deployment;
  const after = structuredClone(before);
  after.spec.replicas = n;
  const container = after.spec.template.spec.containers[0];
  if (container) container.args = [...container.args.filter((a) => !a.startsWith("--shards=")), `--shards=${n}`];
  applyDeployment(after, n);
  return before;
}
function applyDeployment(d: Deployment, n: number): void {
  spawnSync(env.KUBECTL ?? "kubectl", ["--kubeconfig", kubeconfig, "replace", "-f", "-"], { input: JSON.stringify({ ...d, metadata: { ...d.metadata, resourceVersion: undefined } }), encoding: "utf8" });
  kubectl(...OPERATOR, "rollout", "status", "deploy/ktf-operator", "--timeout=300s");
  const deadline = Date.now() + 120_000;
  while (operatorPods().length !== n && Date.now() < deadline) spawnSync("sleep", ["1"]);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

const original = replicas ? setReplicas(replicas) : undefined;
kubectl("create", "namespace", ns);
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
  const pods = operatorPods();
  const rssBefore = operatorRssMb();
  const requestsBefore = metric("ktf_api_requests_total", pods);
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
  while (firstStatus.size < runs.length && Date.now() < deadline) await sleep(200);
  const drained = performance.now();
  const statused = firstStatus.size;
  const waits = runs.flatMap((r) => {
    const a = created.get(r.name);
    const b = firstStatus.get(r.name);
    return a !== undefined && b !== undefined ? [b - a] : [];
  });
  // Settled: the operators' own follow-ups (workspace statuses, queue positions) are done.
  await sleep(20_000);
  const requestsAfter = metric("ktf_api_requests_total", pods);
  // Once the backlog is drained: new runs one at a time, each to a workspace with a queue already.
  const steady: number[] = [];
  for (let i = 0; i < 20; i++) {
    const name = `steady-${i}`;
    const t = performance.now();
    created.set(name, t);
    await client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name, namespace: ns }, spec: { workspace: names[i % names.length] ?? "", command: "plan" } });
    while (!firstStatus.has(name) && performance.now() - t < 60_000) await sleep(2);
    steady.push((firstStatus.get(name) ?? NaN) - t);
  }
  // The minute after: the operators' requests while runs still move (a pod that cannot be
  // scheduled fails its run at the installation's start timeout, and the next run starts).
  const idleBefore = metric("ktf_api_requests_total", pods);
  await sleep(60_000);
  const idlePerSecond = (metric("ktf_api_requests_total", pods) - idleBefore) / 60;
  const rssAfter = operatorRssMb();

  // Every operator restarted at once: how long until they have looked at everything again.
  const objects = workspaces + runs.length + steady.length;
  const restartAt = performance.now();
  kubectl(...OPERATOR, "delete", "pods", "-l", "app.kubernetes.io/component=operator", "--wait=false");
  let restarted = NaN;
  const restartDeadline = Date.now() + 10 * 60_000;
  while (Date.now() < restartDeadline) {
    await sleep(1000);
    const now = operatorPods().filter((p) => !pods.includes(p));
    if (now.length < (replicas ?? 1)) continue;
    const reconciled = metric("ktf_reconcile_total", now);
    const depth = metric("ktf_workqueue_depth", now);
    if (reconciled >= objects && depth === 0) {
      restarted = performance.now() - restartAt;
      break;
    }
  }

  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(" + ") || "none";
  console.log(`${workspaces} workspaces x ${runsEach} runs = ${runs.length} runs (pods unschedulable), ${pods.length} operator replica(s)`);
  console.log(`created in ${((createdAll - t0) / 1000).toFixed(1)} s; every run had a status ${((drained - t0) / 1000).toFixed(1)} s after the first was made (${statused}/${runs.length})`);
  console.log(`run created -> first status, in the backlog: p50 ${percentile(waits, 50).toFixed(0)} ms, p99 ${percentile(waits, 99).toFixed(0)} ms`);
  console.log(`run created -> first status, backlog drained (20 runs, one at a time): p50 ${percentile(steady, 50).toFixed(0)} ms, p99 ${percentile(steady, 99).toFixed(0)} ms (target p99 <= 100 ms)`);
  console.log(`API requests by the operators: ${((requestsAfter - requestsBefore) / runs.length).toFixed(1)} per run while the backlog was worked off; ${idlePerSecond.toFixed(2)} a second in the minute after (runs still timing out and starting)`);
  console.log(`operator RSS (MB, per replica): ${fmt(rssBefore)} before, ${fmt(rssAfter)} after (target <= 200 MB)`);
  console.log(`after restarting every replica: everything (${objects} objects) reconciled again in ${(restarted / 1000).toFixed(1)} s`);
} finally {
  await watcher.stop();
  client.close();
  spawnSync(env.KUBECTL ?? "kubectl", ["--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=false"]);
  if (original && replicas) applyDeployment(original, original.spec.replicas);
}
