import { describe, expect, it } from "vitest";
import { ANNOTATIONS, API_VERSION, LABELS } from "../../api/group.js";
import type { Run } from "../../api/run.js";
import { StaleCacheError } from "../../errors.js";
import type { CachedReader } from "../../kube/cached-reader.js";
import type { KubeObject } from "../../kube/client.js";
import { MemoryKubeClient } from "../../../test/harness/memory-kube.js";
import { RESOURCES } from "../../kube/resources.js";
import { silentLogger } from "../../log.js";
import { cachedRuns } from "../workspace-runs.js";
import { RunController } from "./run.js";

const NS = "team";
const NOW = new Date("2026-03-01T12:00:00Z");
const START_TIMEOUT_MS = 120_000;
const quiet = { normal: () => undefined, warning: () => undefined };

const workspace: KubeObject = { apiVersion: API_VERSION, kind: "Workspace", metadata: { name: "app", namespace: NS, uid: "uid-app" }, spec: {} };

/** A run of workspace app, adopted by it, with what `more` adds. */
function run(name: string, more: { spec?: Record<string, unknown>; status?: Record<string, unknown>; finalizers?: string[] } = {}): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: "Run",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      creationTimestamp: "2026-03-01T11:59:00Z",
      labels: { [LABELS.workspace]: "app" },
      annotations: { [ANNOTATIONS.createdBy]: "alice" },
      ownerReferences: [{ apiVersion: API_VERSION, kind: "Workspace", name: "app", uid: "uid-app" }],
      ...(more.finalizers ? { finalizers: more.finalizers } : {}),
    },
    spec: { workspace: "app", command: "plan", ...more.spec },
    ...(more.status ? { status: more.status } : {}),
  };
}

/** The run's pod, which no node can take. */
function unschedulablePod(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, uid: `uid-pod-${name}`, creationTimestamp: "2026-03-01T11:59:30Z", labels: { [LABELS.component]: "run" }, ownerReferences: [{ apiVersion: API_VERSION, kind: "Run", name, uid: `uid-${name}` }] },
    spec: {},
    status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available" }] },
  };
}

/** A Run controller over an in-memory API, reading a cache that moves on only when `resync` is called (as an informer's would, later). */
function setup(objects: KubeObject[]) {
  const client = new MemoryKubeClient(objects);
  let cache = client.snapshot();
  const reader: CachedReader = { get: (type, namespace, name) => cache.get(type, namespace, name) };
  const controller = new RunController({
    client,
    cache: reader,
    runs: cachedRuns([{ list: () => cache.list(RESOURCES.Run) }]),
    events: quiet,
    log: silentLogger(),
    now: () => NOW,
    runnerImage: "ktf-runner:test",
    archiveTimeoutMs: 600_000,
    startTimeoutMs: START_TIMEOUT_MS,
    apiAudiences: [],
  });
  const reconcile = (name: string) => controller.reconcile({ namespace: NS, name });
  const resync = () => {
    cache = client.snapshot();
  };
  const statusOf = (name: string) => client.peek<Run>(RESOURCES.Run, NS, name)?.status;
  return { client, reconcile, resync, statusOf };
}

const calls = (client: MemoryKubeClient) => client.calls.map((c) => `${c.verb} ${c.resource} ${c.name ?? ""}`.trim());

describe("RunController reading from the cache", () => {
  it("makes no request for a Pending run whose pod is cached and unchanged", async () => {
    const t = setup([workspace, run("app-1", { status: { phase: "Pending", podName: "app-1" }, finalizers: ["ktf.dev/release-state-lock"] }), unschedulablePod("app-1")]);
    // The first reconcile writes what it sees (the scheduler's message); the cache then has it.
    await t.reconcile("app-1");
    t.resync();
    t.client.calls.length = 0;

    const result = await t.reconcile("app-1");

    expect(calls(t.client)).toEqual([]);
    expect(result).toEqual({ requeueAfter: START_TIMEOUT_MS / 4 });
    expect(t.statusOf("app-1")?.conditions?.find((c) => c.type === "Complete")?.message).toBe("Unschedulable: 0/1 nodes are available");
  });

  it.each([
    { podLive: true, phase: "Pending", reason: "InProgress" },
    { podLive: false, phase: "Failed", reason: "PodLost" },
  ])("confirms live a pod the cache does not have yet (pod in the API: $podLive)", async ({ podLive, phase, reason }) => {
    const t = setup([workspace, run("app-1", { status: { phase: "Pending", podName: "app-1" }, finalizers: ["ktf.dev/release-state-lock"] })]);
    // Created after the cache's copy: the pod informer has not delivered it yet.
    if (podLive) t.client.put(unschedulablePod("app-1"));

    await t.reconcile("app-1");

    expect(calls(t.client)).toContain("get pods app-1");
    const status = t.statusOf("app-1");
    expect(status?.phase).toBe(phase);
    expect(status?.conditions?.find((c) => c.type === "Complete")?.reason).toBe(reason);
  });

  it("starts a queued run whose cached copy is the current one", async () => {
    const t = setup([workspace, run("app-1")]);

    await t.reconcile("app-1");

    expect(t.client.peek(RESOURCES.Pod, NS, "app-1")).toBeDefined();
    expect(t.statusOf("app-1")).toMatchObject({ phase: "Pending", podName: "app-1" });
  });

  it("does not start a run canceled since the cache's copy was made", async () => {
    const t = setup([workspace, run("app-1")]);
    await t.client.patch(RESOURCES.Run, NS, "app-1", { spec: { cancel: true } });

    await expect(t.reconcile("app-1")).rejects.toBeInstanceOf(StaleCacheError);
    expect(calls(t.client)).not.toContain("create pods app-1");
    expect(t.client.peek(RESOURCES.Pod, NS, "app-1")).toBeUndefined();

    // Once the cache has caught up, the run ends without having had a pod.
    t.resync();
    await t.reconcile("app-1");
    expect(t.client.peek(RESOURCES.Pod, NS, "app-1")).toBeUndefined();
    expect(t.statusOf("app-1")?.phase).toBe("Canceled");
    expect(t.statusOf("app-1")?.conditions?.find((c) => c.type === "Complete")?.message).toBe("canceled before it started");
  });

  it("has a status computed from a stale copy refused (409), not written", async () => {
    const t = setup([workspace, run("app-1", { status: { phase: "Pending", podName: "app-1" }, finalizers: ["ktf.dev/release-state-lock"] }), unschedulablePod("app-1")]);
    await t.client.patch(RESOURCES.Run, NS, "app-1", { metadata: { labels: { other: "change" } } });

    await expect(t.reconcile("app-1")).rejects.toMatchObject({ status: 409 });
    expect(t.statusOf("app-1")).toEqual({ phase: "Pending", podName: "app-1" });
  });

  it("does not fail an apply whose plan run succeeded after the cache's copy of it", async () => {
    const plan = run("app-plan", { spec: { savePlan: true }, status: { phase: "Running", podName: "app-plan" } });
    const t = setup([workspace, plan, run("app-apply", { spec: { command: "apply", planRun: "app-plan" } })]);
    await t.client.patchStatus(RESOURCES.Run, NS, "app-plan", { phase: "Succeeded", plan: { secretName: "app-plan-plan", hasChanges: true, add: 1, change: 0, destroy: 0, import: 0 } });

    await t.reconcile("app-apply");

    expect(calls(t.client)).toContain("get runs app-plan");
    // Not failed (PlanNotFound): it waits in the queue behind the plan, as the cache still sees it.
    expect(t.statusOf("app-apply")).toMatchObject({ phase: "Queued", waitingFor: "app-plan" });
  });
});
