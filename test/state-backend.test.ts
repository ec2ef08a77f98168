import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StateAccess } from "../src/api/commands.js";
import { connectToCluster } from "../src/kube/connect.js";
import type { KubeObject } from "../src/kube/client.js";
import { RESOURCES } from "../src/kube/resources.js";
import { silentLogger } from "../src/log.js";
import { createStateBackend, listen } from "../src/state/http-backend.js";
import { listStateVersions } from "../src/state/state-history.js";
import { StateReport } from "../src/state/state-report.js";
import { releaseLockOfRun, StateLock } from "../src/state/state-lock.js";
import { StateStore } from "../src/state/state-store.js";
import { harness, testNamespace } from "./harness/cluster.js";

/** The engine's http backend protocol, spoken to the state server backed by the real API. */
describe("the state backend", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const servers: Server[] = [];
  const client = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  const loc = () => ({ namespace: ns.name, suffix: "ws" });

  /** A state sidecar for a run whose command has this access. */
  async function sidecar(access: StateAccess, run = `run-${access}`): Promise<{ base: string; report: StateReport }> {
    const report = new StateReport();
    const server = createStateBackend({ store: new StateStore(client, loc()), lock: new StateLock(client, loc(), run), log: silentLogger(), access, writer: { run, user: "tester" }, report });
    servers.push(server);
    return { base: `http://127.0.0.1:${await listen(server, 0)}`, report };
  }
  let writer: string;
  let reader: string;

  beforeAll(async () => {
    ns = await testNamespace("state");
    writer = (await sidecar("write")).base;
    reader = (await sidecar("read")).base;
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    client.close();
    await ns.remove();
  });

  const lockInfo = (id: string) => JSON.stringify({ ID: id, Operation: "OperationTypeApply", Who: "test" });
  const state = (serial: number, lineage = "L", extra: object = {}) => JSON.stringify({ version: 4, serial, lineage, outputs: {}, ...extra });
  const lock = (base: string, id: string) => fetch(`${base}/lock`, { method: "LOCK", body: lockInfo(id) });
  const unlock = (base: string, id: string) => fetch(`${base}/lock`, { method: "UNLOCK", body: lockInfo(id) });
  const write = (base: string, body: string | Buffer, id?: string) => fetch(`${base}/state${id ? `?ID=${id}` : ""}`, { method: "POST", body });
  const current = async () => (await fetch(`${reader}/state`)).text();

  it("has no state at first, then returns what was written, in the kubernetes backend's format", async () => {
    expect((await fetch(`${reader}/state`)).status).toBe(204);
    expect((await lock(writer, "W1")).status).toBe(200);
    expect((await write(writer, state(1), "W1")).status).toBe(200);
    expect((await unlock(writer, "W1")).status).toBe(200);
    expect(await current()).toBe(state(1));
    const secret = await client.get<KubeObject & { data: Record<string, string> }>(RESOURCES.Secret, ns.name, "tfstate-default-ws");
    expect(secret?.metadata.labels).toMatchObject({ tfstate: "true", tfstateSecretSuffix: "ws" });
    expect(secret?.data.tfstate).toBeTruthy();
  });

  it("locks: a second locker gets 423 with the holder; only the holder writes and unlocks", async () => {
    expect((await lock(writer, "A")).status).toBe(200);
    const second = await lock(reader, "B");
    expect(second.status).toBe(423);
    expect(((await second.json()) as { ID: string }).ID).toBe("A");
    expect((await unlock(reader, "A")).status).toBe(403);
    expect((await unlock(writer, "A")).status).toBe(200);
    expect((await lock(reader, "B")).status).toBe(200);
    expect((await unlock(reader, "B")).status).toBe(200);
  });

  it.each([
    ["a delete", (base: string) => fetch(`${base}/state`, { method: "DELETE" }), "write", 405, /never deletes/],
    ["a write by a command that only reads", (base: string) => write(base, state(9), "R1"), "read", 403, /not allowed for this run's command/],
    ["a write without the lock ID", (base: string) => write(base, state(9)), "write", 423, /needs the state lock/],
    ["a write with another run's lock ID", (base: string) => write(base, state(9), "someone-else"), "write", 423, /is not this run's/],
    ["a write of another lineage", (base: string) => write(base, state(9, "M"), "W2"), "write", 409, /lineage is L, not M/],
    ["a write of a lower serial", (base: string) => write(base, state(0), "W2"), "write", 409, /serial 0 would go backwards/],
    ["a lock's holder asked by a command that reads", (base: string) => fetch(`${base}/lock`), "read", 403, /not allowed/],
  ] as const)("refuses %s, and the state stays as it was", async (_, attempt, access, status, message) => {
    const { base, report } = await sidecar(access);
    const id = access === "read" ? "R1" : "W2";
    expect((await lock(base, id)).status).toBe(200);
    const before = await current();
    try {
      const res = await attempt(base);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
      expect(await current()).toBe(before);
      expect(report.toJSON().refused[0]).toMatch(new RegExp(` ${status} `));
    } finally {
      await unlock(base, id);
    }
  });

  it("stores a state of any size in chunks, reads it back whole, and keeps every write as a version", async () => {
    // Random bytes do not compress: 5 MB of them need several chunk Secrets.
    const big = state(2, "L", { blob: randomBytes(5 * 1024 * 1024).toString("base64") });
    expect((await lock(writer, "W3")).status).toBe(200);
    expect((await write(writer, big, "W3")).status).toBe(200);
    expect((await write(writer, state(3), "W3")).status).toBe(200);
    expect((await write(writer, big.replace('"serial":2', '"serial":4'), "W3")).status).toBe(200);
    expect((await unlock(writer, "W3")).status).toBe(200);
    const pointer = await client.get<KubeObject & { data?: Record<string, string> }>(RESOURCES.Secret, ns.name, "tfstate-default-ws");
    expect(pointer?.data?.tfstate).toBeUndefined();
    expect(await current()).toBe(big.replace('"serial":2', '"serial":4'));
    const versions = await listStateVersions(client, ns.name, "ws");
    expect(versions.map((v) => v.serial)).toEqual([4, 3, 2, 1]);
    expect(versions[0]).toMatchObject({ run: "run-write", user: "tester", lineage: "L" });
    expect(versions[0]?.chunks).toBeGreaterThan(4);
  });

  it("lets the operator release a lock that a dead run left, and only that run's", async () => {
    expect((await lock(writer, "C")).status).toBe(200);
    expect(await releaseLockOfRun(client, loc(), "another-run")).toBe(false);
    expect(await releaseLockOfRun(client, loc(), "run-write")).toBe(true);
    expect((await lock(reader, "D")).status).toBe(200);
    expect((await unlock(reader, "D")).status).toBe(200);
  });
});
