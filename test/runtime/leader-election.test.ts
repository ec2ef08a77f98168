import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToCluster } from "../../src/kube/connect.js";
import { silentLogger } from "../../src/log.js";
import { LeaderElector } from "../../src/operator/runtime/leader-election.js";
import { harness, testNamespace, waitFor } from "../harness/cluster.js";

describe("leader election on a real Lease", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const client = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  beforeAll(async () => {
    ns = await testNamespace("leader");
  });
  afterAll(async () => {
    client.close();
    await ns.remove();
  });

  const elector = (identity: string, name: string) =>
    new LeaderElector({ client, namespace: ns.name, name, identity, log: silentLogger(), leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 });

  function campaign(e: LeaderElector) {
    const state = { leading: false, stopped: false };
    const done = e.run({ onStartedLeading: () => (state.leading = true), onStoppedLeading: () => ((state.leading = false), (state.stopped = true)) });
    return { state, done };
  }

  it("elects exactly one, and hands over at once when the leader stops", async () => {
    const a = elector("a", "handover");
    const b = elector("b", "handover");
    const ca = campaign(a);
    await waitFor(() => ca.state.leading, 10_000, "a to lead");
    const cb = campaign(b);
    await new Promise((r) => setTimeout(r, 1500));
    expect(cb.state.leading).toBe(false);
    const t0 = Date.now();
    await a.stop();
    await ca.done;
    await waitFor(() => cb.state.leading, 10_000, "b to take over");
    // Released, not expired: well under the 3 s lease.
    expect(Date.now() - t0).toBeLessThan(2500);
    await b.stop();
    await cb.done;
  });

  it("replaces a leader that stopped renewing once its lease has run out", async () => {
    const a = elector("a", "expiry");
    const ca = campaign(a);
    await waitFor(() => ca.state.leading, 10_000, "a to lead");
    // Simulate a frozen or partitioned leader: it stops renewing and never releases.
    (a as unknown as { stopper: AbortController }).stopper.abort();
    await ca.done;
    const b = elector("b", "expiry");
    const cb = campaign(b);
    const t0 = Date.now();
    await waitFor(() => cb.state.leading, 15_000, "b to take over");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    await b.stop();
    await cb.done;
  });
});
