import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { silentLogger } from "../../log.js";
import { LeaderElector } from "./leader-election.js";

/** A Lease store whose API can be made to hang, as a slow API server's does. */
function leaseApi() {
  let lease: KubeObject | undefined;
  let hang = false;
  const answer = <T>(value: T) => (hang ? new Promise<T>(() => undefined) : Promise.resolve(value));
  const client = {
    get: () => answer(lease && structuredClone(lease)),
    create: (o: KubeObject) => answer((lease = { ...o, metadata: { ...o.metadata, resourceVersion: "1" } })),
    replace: (o: KubeObject) => answer((lease = { ...o, metadata: { ...o.metadata, resourceVersion: String(Number(o.metadata.resourceVersion ?? 0) + 1) } })),
  } as unknown as KubeClient;
  return { client, hangFromNowOn: () => (hang = true) };
}

describe("leader election", () => {
  it("stops leading once the renew deadline passes, even when a renewal never returns", async () => {
    const api = leaseApi();
    const elector = new LeaderElector({ client: api.client, namespace: "ns", name: "l", identity: "me", log: silentLogger(), leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.2 });
    const events: string[] = [];
    const done = elector.run({ onStartedLeading: () => events.push("started"), onStoppedLeading: () => events.push("stopped") });
    while (!elector.isLeader) await new Promise((r) => setTimeout(r, 20));
    api.hangFromNowOn();
    await done;
    expect(events).toEqual(["started", "stopped"]);
    expect(elector.isLeader).toBe(false);
  });
});
