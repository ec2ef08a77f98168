import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/api/run.js";
import { connectToCluster } from "../../src/kube/connect.js";
import type { KubeObject } from "../../src/kube/client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { shardOf } from "../../src/operator/runtime/shards.js";
import { harness, ktf, testNamespace, waitFor } from "../harness/cluster.js";
import { operatorPids } from "../harness/operator.js";
import { configDir, SLOW } from "../harness/workspace.js";

const OPERATOR_NS = "ktf-system";
const REPLICAS = 3;
type Event = KubeObject & { reason?: string; reportingInstance?: string; involvedObject?: { name?: string; kind?: string } };
type Pod = KubeObject & { status?: { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] } };

/** `ktf install` with the e2e setup's arguments and these. */
async function install(extra: string[]): Promise<void> {
  const r = await ktf(["install", ...harness().installArgs, ...extra], { cwd: "/" });
  if (r.code !== 0) throw new Error(`ktf install ${extra.join(" ")} failed: ${r.stderr}`);
}

describe(`the operator with ${REPLICAS} replicas sharing the work`, () => {
  const client = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const dirs: Awaited<ReturnType<typeof configDir>>[] = [];

  /** The replica (pod name) holding each shard's Lease. */
  const holders = async () =>
    Promise.all(
      Array.from({ length: REPLICAS }, async (_, s) => ((await client.get(RESOURCES.Lease, OPERATOR_NS, `ktf-operator-shard-${s}`))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? ""),
    );
  const readyPods = async () =>
    (await client.list<Pod>(RESOURCES.Pod, OPERATOR_NS, { labelSelector: "app.kubernetes.io/component=operator" })).items.filter(
      (p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
  /** Waits until every shard is held, each by a different running replica. */
  const spread = () =>
    waitFor(async () => {
      const pods = (await readyPods()).map((p) => p.metadata.name);
      const h = await holders();
      return pods.length === REPLICAS && new Set(h).size === REPLICAS && h.every((x) => pods.includes(x)) ? h : undefined;
    }, 120_000, "each shard held by its own replica");
  const events = async (run: string) =>
    (await client.list<Event>(RESOURCES.Event, ns.name, { fieldSelector: `involvedObject.name=${run}` })).items.filter((e) => e.involvedObject?.kind === "Run");
  /** A workspace of the test's namespace, with its own configuration directory. */
  async function workspace(name: string, files: Record<string, string>) {
    const dir = await configDir(files);
    dirs.push(dir);
    const r = await ktf(["workspace", "new", name, "-n", ns.name], { cwd: dir.dir });
    expect(r.code, r.stderr).toBe(0);
    return { name, shard: shardOf(ns.name, name, REPLICAS), ktf: (args: string[]) => ktf(args, { cwd: dir.dir }) };
  }
  const runsOf = async (ws: string) => (await client.list<Run>(RESOURCES.Run, ns.name)).items.filter((r) => r.spec.workspace === ws);

  beforeAll(async () => {
    await install(["--replicas", String(REPLICAS)]);
    await spread();
    ns = await testNamespace("replicas");
  });
  afterAll(async () => {
    for (const d of dirs) await d.remove();
    await ns?.remove();
    await install(["--replicas", "1"]);
    client.close();
  });

  it("handles each workspace's runs in the replica that holds its shard, and only there", async () => {
    const spaces = await Promise.all(Array.from({ length: 6 }, (_, i) => workspace(`ws-${i}`, { "main.tf": "" })));
    expect(new Set(spaces.map((w) => w.shard)).size).toBeGreaterThan(1);
    for (let round = 0; round < 2; round++) {
      const results = await Promise.all(spaces.map((w) => w.ktf(["plan"])));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
    }
    const h = await holders();
    for (const w of spaces) {
      const runs = await runsOf(w.name);
      expect(runs).toHaveLength(2);
      for (const run of runs) {
        const reporters = new Set((await events(run.metadata.name ?? "")).map((e) => e.reportingInstance));
        expect([...reporters], `${w.name} (shard ${w.shard}), run ${run.metadata.name}`).toEqual([h[w.shard]]);
      }
    }
  });

  it("moves a frozen replica's shard to another, and no run is lost or run twice", async () => {
    const w = await workspace("frozen", { "main.tf": SLOW });
    const h = await holders();
    const victim = h[w.shard] ?? "";
    const pid = await pidOf(victim);
    const apply = w.ktf(["apply", "-auto-approve", "-var", "tag=one", "-var", "seconds=8"]);
    await waitFor(async () => (await runsOf(w.name)).some((r) => r.status?.phase === "Running"), 120_000, "the apply to run");
    process.kill(pid, "SIGSTOP");
    try {
      // A plan queued behind the apply while the replica that holds their shard is frozen.
      const plan = w.ktf(["plan", "-var", "tag=one"]);
      const taker = await waitFor(async () => {
        const now = (await holders())[w.shard];
        return now && now !== victim ? now : undefined;
      }, 60_000, "another replica to take the shard");
      const [applied, planned] = await Promise.all([apply, plan]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain("Apply complete! Resources: 1 added");
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stdout).toContain("No changes.");
      const runs = await runsOf(w.name);
      expect(runs.map((r) => r.status?.phase)).toEqual(["Succeeded", "Succeeded"]);
      // The plan was started by the replica that took over.
      const planRun = runs.find((r) => r.spec.command === "plan");
      expect((await events(planRun?.metadata.name ?? "")).find((e) => e.reason === "Started")?.reportingInstance).toBe(taker);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    // Awake again, the frozen replica does nothing more to them: one pod and one start each.
    await new Promise((r) => setTimeout(r, 8000));
    for (const run of await runsOf(w.name)) {
      expect(run.status?.phase).toBe("Succeeded");
      expect((await events(run.metadata.name ?? "")).filter((e) => e.reason === "Started").map((e) => e.reportingInstance)).toHaveLength(1);
      const pod = await client.get<Pod>(RESOURCES.Pod, ns.name, run.metadata.name ?? "");
      expect(pod?.status?.containerStatuses?.[0]?.restartCount ?? 0).toBe(0);
    }
    await spread();
  });

  it("hands a deleted replica's shard over at once", async () => {
    const w = await workspace("handover", { "main.tf": "" });
    const victim = (await holders())[w.shard] ?? "";
    await client.delete(RESOURCES.Pod, OPERATOR_NS, victim);
    const t0 = Date.now();
    await waitFor(async () => {
      const now = (await holders())[w.shard];
      return now && now !== victim;
    }, 30_000, "another replica to take the shard");
    // Released on SIGTERM, not expired: well within the 15 s lease.
    expect(Date.now() - t0).toBeLessThan(10_000);
    const r = await w.ktf(["plan"]);
    expect(r.code, r.stderr).toBe(0);
    await spread();
  });
});

/** The operator process of the pod (its KTF_POD_NAME): the cluster runs on this machine. */
async function pidOf(podName: string): Promise<number> {
  for (const pid of await operatorPids()) {
    const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    if (environ.split("\0").includes(`KTF_POD_NAME=${podName}`)) return pid;
  }
  throw new Error(`no operator process of pod ${podName} on this machine`);
}
