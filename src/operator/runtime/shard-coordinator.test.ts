import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { silentLogger } from "../../log.js";
import { ShardCoordinator } from "./shard-coordinator.js";
import { shardOf, shardsFor } from "./shards.js";

/** Leases in memory, with the API's conflict rule on replace; `hang` makes every call hang, as a partitioned replica's do. */
function leaseApi() {
  const leases = new Map<string, KubeObject>();
  let version = 0;
  const hanging = new Set<string>();
  const answer = <T>(who: string, value: () => T) => (hanging.has(who) ? new Promise<T>(() => undefined) : Promise.resolve().then(value));
  const clientFor = (who: string) =>
    ({
      get: (_t: unknown, _ns: string, name: string) => answer(who, () => structuredClone(leases.get(name))),
      list: (_t: unknown, _ns: string, o: { labelSelector: string }) =>
        answer(who, () => {
          const [k, v] = o.labelSelector.split("=");
          return { items: [...leases.values()].filter((l) => l.metadata.labels?.[k ?? ""] === v).map((l) => structuredClone(l)), resourceVersion: String(version) };
        }),
      create: (o: KubeObject) =>
        answer(who, () => {
          const name = o.metadata.name ?? "";
          if (leases.has(name)) throw Object.assign(new Error("exists"), { status: 409 });
          leases.set(name, { ...o, metadata: { ...o.metadata, resourceVersion: String(++version) } });
          return o;
        }),
      replace: (o: KubeObject) =>
        answer(who, () => {
          const name = o.metadata.name ?? "";
          if (leases.get(name)?.metadata.resourceVersion !== o.metadata.resourceVersion) throw Object.assign(new Error("conflict"), { status: 409 });
          leases.set(name, { ...o, metadata: { ...o.metadata, resourceVersion: String(++version) } });
          return o;
        }),
      delete: (_t: unknown, _ns: string, name: string) => answer(who, () => leases.delete(name)),
    }) as unknown as KubeClient;
  return { leases, clientFor, hang: (who: string) => hanging.add(who) };
}

function replicas(identities: string[], shards: number, renewDeadlineSeconds = 10) {
  const api = leaseApi();
  let clock = 0;
  const make = (identity: string) =>
    new ShardCoordinator({ client: api.clientFor(identity), namespace: "ktf-system", base: "ktf-operator", identity, shards, log: silentLogger(), now: () => clock, leaseDurationSeconds: 15, renewDeadlineSeconds });
  const all = new Map(identities.map((id) => [id, make(id)]));
  return {
    api,
    all,
    add: (id: string) => all.set(id, make(id)).get(id),
    advance: (ms: number) => (clock += ms),
    /** Rounds of every replica's tick, 2 s of the clock apart. */
    rounds: async (n: number, who = [...all.keys()]) => {
      for (let i = 0; i < n; i++) {
        for (const id of who) await all.get(id)?.tick();
        clock += 2000;
      }
    },
    held: () => Object.fromEntries([...all].map(([id, c]) => [id, c.shardsHeld])),
  };
}

describe("shards", () => {
  it("spread evenly and identically over the members whatever order they are listed in", () => {
    expect(shardsFor("b", ["c", "a", "b"], 6)).toEqual([1, 4]);
    expect(shardsFor("b", ["b", "c", "a"], 6)).toEqual([1, 4]);
    expect(shardsFor("x", ["a"], 3)).toEqual([]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[shardOf("ns", `ws-${i}`, 3)]! += 1;
    for (const n of counts) expect(n).toBeGreaterThan(900);
    expect(shardOf("ns", "ws-1", 3)).toBe(shardOf("ns", "ws-1", 3));
  });
});

describe("shard coordinator", () => {
  it("gives every shard to exactly one replica, and splits them when a second one joins", async () => {
    const r = replicas(["a"], 2);
    await r.rounds(2);
    expect(r.held()).toEqual({ a: [0, 1] });
    r.add("b");
    await r.rounds(3);
    expect(r.held()).toEqual({ a: [0], b: [1] });
    expect(r.api.leases.get("ktf-operator-shard-1")?.spec).toMatchObject({ holderIdentity: "b" });
  });

  it("hands a stopped replica's shards over at once, and a frozen one's after its lease runs out", async () => {
    const r = replicas(["a", "b", "c"], 3);
    await r.rounds(3);
    expect(r.held()).toEqual({ a: [0], b: [1], c: [2] });
    await r.all.get("c")?.stop();
    r.all.delete("c");
    await r.rounds(2);
    expect(r.held()).toEqual({ a: [0, 2], b: [1] });
    // b freezes: its calls never return; until its leases expire nobody takes shard 1.
    r.api.hang("b");
    await r.rounds(3, ["a"]);
    expect(r.all.get("a")?.shardsHeld).toEqual([0, 2]);
    await r.rounds(8, ["a"]);
    expect(r.all.get("a")?.shardsHeld).toEqual([0, 1, 2]);
  });

  it("gives a shard up once it cannot renew for the renew deadline", async () => {
    // The deadline is also how long a round may take, in real time: short here.
    const r = replicas(["a"], 1, 0.2);
    await r.rounds(1);
    expect(r.held()).toEqual({ a: [0] });
    expect(r.api.leases.get("ktf-operator")?.spec).toMatchObject({ holderIdentity: "a" });
    r.api.hang("a");
    const tick = r.all.get("a")?.tick();
    r.advance(11_000);
    await tick;
    expect(r.held()).toEqual({ a: [] });
  });

  it("works on nothing while the replicas split the work into different shard counts", async () => {
    const r = replicas(["a"], 2);
    await r.rounds(2);
    const other = new ShardCoordinator({ client: r.api.clientFor("z"), namespace: "ktf-system", base: "ktf-operator", identity: "z", shards: 3, log: silentLogger(), now: () => 0 });
    await other.tick();
    await r.rounds(1);
    expect(r.held()).toEqual({ a: [] });
    expect(other.shardsHeld).toEqual([]);
  });
});
