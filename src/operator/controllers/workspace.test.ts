import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.js";
import type { Workspace } from "../../api/workspace.js";
import { StaleCacheError } from "../../errors.js";
import type { CachedReader } from "../../kube/cached-reader.js";
import { MemoryKubeClient } from "../../../test/harness/memory-kube.js";
import { RESOURCES } from "../../kube/resources.js";
import { silentLogger } from "../../log.js";
import { StateStore } from "../../state/state-store.js";
import { cachedRuns } from "../workspace-runs.js";
import { WorkspaceController } from "./workspace.js";

const NS = "team";
const NOW = new Date("2026-03-01T12:00:00Z");

/** A Workspace controller over an in-memory API, reading a cache that moves on only when `resync` is called. */
function setup() {
  const client = new MemoryKubeClient([{ apiVersion: API_VERSION, kind: "Workspace", metadata: { name: "app", namespace: NS }, spec: {} }]);
  let cache = client.snapshot();
  const reader: CachedReader = { get: (type, namespace, name) => cache.get(type, namespace, name) };
  const controller = new WorkspaceController({
    client,
    cache: reader,
    runs: cachedRuns([{ list: () => cache.list(RESOURCES.Run) }]),
    events: { normal: () => undefined, warning: () => undefined },
    log: silentLogger(),
    now: () => NOW,
    apiAudiences: [],
  });
  return {
    client,
    reconcile: () => controller.reconcile({ namespace: NS, name: "app" }),
    resync: () => {
      cache = client.snapshot();
    },
    status: () => client.peek<Workspace>(RESOURCES.Workspace, NS, "app")?.status,
  };
}

const state = (serial: number) => Buffer.from(JSON.stringify({ version: 4, serial, lineage: "l-1", outputs: { url: { value: "https://app", type: "string" } }, resources: [] }));
const calls = (client: MemoryKubeClient) => client.calls.map((c) => `${c.verb} ${c.resource} ${c.name ?? ""}`.trim());

describe("WorkspaceController reading from the cache", () => {
  it("reads its workspace from the cache", async () => {
    const t = setup();

    await t.reconcile();

    expect(calls(t.client).filter((c) => c.startsWith("get workspaces"))).toEqual([]);
    expect(t.status()?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("has a status computed from a stale copy refused (409), not written", async () => {
    const t = setup();
    await t.client.patch(RESOURCES.Workspace, NS, "app", { metadata: { annotations: { edited: "meanwhile" } } });

    await expect(t.reconcile()).rejects.toMatchObject({ status: 409 });
    expect(t.status()).toBeUndefined();
  });

  it("reads a new state version once, though the cache lags behind the status that recorded it", async () => {
    const t = setup();
    await new StateStore(t.client, { namespace: NS, suffix: "app" }).write(state(1), { user: "alice", run: "app-1" }, NOW);
    await t.reconcile();
    expect(t.status()?.outputs).toEqual([{ name: "url", type: '"string"', value: '"https://app"' }]);
    t.client.calls.length = 0;

    // The cache still has the workspace without the version: the state is not read again.
    await expect(t.reconcile()).rejects.toBeInstanceOf(StaleCacheError);
    expect(calls(t.client)).toContain("get workspaces app");
    expect(calls(t.client).filter((c) => c.includes("outputs"))).toEqual([]);

    t.resync();
    t.client.calls.length = 0;
    await t.reconcile();
    expect(calls(t.client).filter((c) => c.includes("outputs") || c.startsWith("get workspaces"))).toEqual([]);
  });
});
