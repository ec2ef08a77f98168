import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToCluster } from "../src/kube/connect.js";
import type { KubeObject } from "../src/kube/client.js";
import { RESOURCES } from "../src/kube/resources.js";
import { silentLogger } from "../src/log.js";
import { createStateBackend, listen } from "../src/state/http-backend.js";
import { releaseLockOfRun, StateLock } from "../src/state/state-lock.js";
import { StateStore } from "../src/state/state-store.js";
import { harness, testNamespace } from "./harness/cluster.js";

/** The engine's http backend protocol, spoken to the state server backed by the real API. */
describe("the state backend", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let server: Server;
  let base: string;
  const client = connectToCluster({ kubeconfig: harness().kubeconfig }).client;

  beforeAll(async () => {
    ns = await testNamespace("state");
    const loc = { namespace: ns.name, suffix: "ws" };
    server = createStateBackend({ store: new StateStore(client, loc), lock: new StateLock(client, loc, "run-1"), log: silentLogger() });
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  afterAll(async () => {
    server.close();
    client.close();
    await ns.remove();
  });

  const lockInfo = (id: string) => JSON.stringify({ ID: id, Operation: "OperationTypeApply", Who: "test" });

  it("has no state at first, then returns what was written, in the kubernetes backend's format", async () => {
    expect((await fetch(`${base}/state`)).status).toBe(204);
    const state = JSON.stringify({ version: 4, serial: 1, lineage: "l", outputs: { a: { value: 1, type: "number" } } });
    expect((await fetch(`${base}/state`, { method: "POST", body: state })).status).toBe(200);
    expect(await (await fetch(`${base}/state`)).text()).toBe(state);
    const secret = await client.get<KubeObject & { data: Record<string, string> }>(RESOURCES.Secret, ns.name, "tfstate-default-ws");
    expect(secret?.metadata.labels).toMatchObject({ tfstate: "true", tfstateSecretSuffix: "ws" });
    expect(secret?.data.tfstate).toBeTruthy();
  });

  it("locks: a second locker gets 423 with the holder; only the holder writes and unlocks", async () => {
    expect((await fetch(`${base}/lock`, { method: "LOCK", body: lockInfo("A") })).status).toBe(200);
    const second = await fetch(`${base}/lock`, { method: "LOCK", body: lockInfo("B") });
    expect(second.status).toBe(423);
    expect(((await second.json()) as { ID: string }).ID).toBe("A");
    expect((await fetch(`${base}/state?ID=B`, { method: "POST", body: "{}" })).status).toBe(423);
    expect((await fetch(`${base}/lock`, { method: "UNLOCK", body: lockInfo("B") })).status).toBe(423);
    expect(((await (await fetch(`${base}/lock`)).json()) as { ID: string }).ID).toBe("A");
    expect((await fetch(`${base}/lock`, { method: "UNLOCK", body: lockInfo("A") })).status).toBe(200);
    expect((await fetch(`${base}/lock`)).status).toBe(204);
    expect((await fetch(`${base}/lock`, { method: "LOCK", body: lockInfo("B") })).status).toBe(200);
    expect((await fetch(`${base}/lock`, { method: "UNLOCK", body: lockInfo("B") })).status).toBe(200);
  });

  it("lets the operator release a lock that a dead run left, and only that run's", async () => {
    expect((await fetch(`${base}/lock`, { method: "LOCK", body: lockInfo("C") })).status).toBe(200);
    expect(await releaseLockOfRun(client, { namespace: ns.name, suffix: "ws" }, "another-run")).toBe(false);
    expect(await releaseLockOfRun(client, { namespace: ns.name, suffix: "ws" }, "run-1")).toBe(true);
    expect((await fetch(`${base}/lock`, { method: "LOCK", body: lockInfo("D") })).status).toBe(200);
  });
});
