import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToCluster } from "../../src/kube/connect.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { silentLogger } from "../../src/log.js";
import { ShardCoordinator } from "../../src/operator/runtime/shard-coordinator.js";
import { harness, testNamespace, waitFor } from "../harness/cluster.js";

describe("shards on real Leases", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const client = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  beforeAll(async () => {
    ns = await testNamespace("shards");
  });
  afterAll(async () => {
    client.close();
    await ns.remove();
  });

  const replica = (identity: string, base: string, shards: number) => {
    const c = new ShardCoordinator({ client, namespace: ns.name, base, identity, shards, log: silentLogger(), leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 });
    const done = c.run();
    return { c, done, stop: async () => (await c.stop(), await done) };
  };
  const holder = async (name: string) => ((await client.get(RESOURCES.Lease, ns.name, name))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

  it("split between two replicas, each shard held by one, and handed over at once when one stops", async () => {
    const a = replica("a", "split", 2);
    await waitFor(() => a.c.shardsHeld.length === 2, 10_000, "a to hold both shards");
    const b = replica("b", "split", 2);
    await waitFor(() => b.c.shardsHeld.length === 1 && a.c.shardsHeld.length === 1, 10_000, "the shards to split");
    expect(a.c.shardsHeld).toEqual([0]);
    expect(b.c.shardsHeld).toEqual([1]);
    expect([await holder("split-shard-0"), await holder("split-shard-1")]).toEqual(["a", "b"]);
    const t0 = Date.now();
    await b.stop();
    await waitFor(() => a.c.shardsHeld.length === 2, 10_000, "a to take shard 1");
    // Released, not expired: well under the 3 s lease.
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await client.get(RESOURCES.Lease, ns.name, "split-member-b")).toBeUndefined();
    await a.stop();
  });

  it("taken from a replica that stopped renewing once its lease has run out, not before", async () => {
    const a = replica("a", "frozen", 1);
    await waitFor(() => a.c.shardsHeld.length === 1, 10_000, "a to lead");
    // A frozen or partitioned replica: it stops renewing and never releases.
    (a.c as unknown as { stopper: AbortController }).stopper.abort();
    await a.done;
    const b = replica("b", "frozen", 1);
    const t0 = Date.now();
    await waitFor(() => b.c.shardsHeld.length === 1, 15_000, "b to take over");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(await holder("frozen")).toBe("b");
    // The frozen one, awake again, no longer counts the shard as its own.
    expect(a.c.owns(0)).toBe(false);
    await b.stop();
  });
});
