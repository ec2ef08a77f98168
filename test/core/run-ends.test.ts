import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema, type Run } from "../../src/api/run.js";
import type { KubeObject } from "../../src/kube/client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { kubectl, waitFor } from "../harness/cluster.js";
import { SLOW, workspaceFixture } from "../harness/workspace.js";
import { whileOperatorFrozen } from "../harness/operator.js";

/**
 * Every way a run can end releases what it held and lets the next run start within
 * seconds: deleted while it runs, canceled after its pod was gone, and runs created in
 * the same second never both start.
 */
describe("how runs end and the queue moves on", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("runends", { "main.tf": SLOW });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  const lockHolder = async () => (await w.client.get<KubeObject & { spec?: { holderIdentity?: string } }>(RESOURCES.Lease, w.ns, "lock-tfstate-default-main"))?.spec?.holderIdentity ?? "";
  const run = async (name: string) => {
    const raw = await w.client.get(RESOURCES.Run, w.ns, name);
    return raw ? runSchema.parse(raw) : undefined;
  };
  const running = (except: string[] = []) => waitFor(async () => (await w.runs()).find((r) => r.status?.phase === "Running" && !except.includes(r.metadata.name ?? "")), 120_000, "a running run");

  it("deleting a running run stops it, releases the lock, and starts the next one at once", async () => {
    const first = w.ktf(["apply", "-auto-approve", "-var", "tag=a", "-var", "seconds=300"]);
    const active = await running();
    await waitFor(async () => (await lockHolder()) !== "", 60_000, "the engine to take the lock");
    const next = w.ktf(["apply", "-auto-approve", "-var", "tag=b", "-var", "seconds=1"]);
    await waitFor(async () => (await w.runs()).find((r) => r.status?.phase === "Queued"), 60_000, "the next run to queue");
    await kubectl(["-n", w.ns, "delete", "run", active.metadata.name ?? "", "--wait=false"]);
    const after = await next;
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain("Apply complete!");
    expect(await run(active.metadata.name ?? "")).toBeUndefined();
    await first;
  });

  it("a run canceled after its pod was already gone releases the lock the engine left", async () => {
    const apply = w.ktf(["apply", "-auto-approve", "-var", "tag=c", "-var", "seconds=300"]);
    const active = await running();
    await waitFor(async () => (await lockHolder()) !== "", 60_000, "the engine to take the lock");
    // While the operator is frozen: the run is canceled, and its pod killed outright.
    await whileOperatorFrozen(async () => {
      await kubectl(["-n", w.ns, "patch", "run", active.metadata.name ?? "", "--type=merge", "-p", '{"spec":{"cancel":true}}']);
      await kubectl(["-n", w.ns, "delete", "pod", active.metadata.name ?? "", "--grace-period=0", "--force"]);
      await waitFor(async () => !(await w.client.get(RESOURCES.Pod, w.ns, active.metadata.name ?? "")), 30_000, "the pod to be gone");
    });
    const ended = await waitFor(async () => {
      const r = await run(active.metadata.name ?? "");
      return r?.status?.phase === "Canceled" ? r : undefined;
    }, 60_000, "the run to be Canceled");
    expect(ended.status?.conditions?.find((c) => c.type === "Complete")?.message).toMatch(/canceled; its pod .* was gone/);
    await waitFor(async () => (await lockHolder()) === "", 30_000, "the lock to be released");
    await apply;
  });

  it("runs created in the same second never both hold the workspace", async () => {
    const names = ["race-1-zz", "race-1-aa", "race-2-zz", "race-2-aa", "race-3-zz", "race-3-aa"];
    await Promise.all(names.map((name) => w.client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name, namespace: w.ns }, spec: { workspace: "main", command: "plan" } })));
    const done = await waitFor(async () => {
      const runs = (await w.runs()).filter((r) => names.includes(r.metadata.name ?? ""));
      return runs.length === names.length && runs.every((r) => ["Succeeded", "Failed"].includes(r.status?.phase ?? "")) ? runs : undefined;
    }, 240_000, "all the runs to end");
    const spans = done.map((r: Run) => [Date.parse(r.status?.startTime ?? ""), Date.parse(r.status?.completionTime ?? "")] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]?.[0], "a run started while another held the workspace").toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
  });
});
