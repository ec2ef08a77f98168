import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { waitFor } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";
import { operatorPids } from "../harness/operator.js";

const SLOW = `
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 10"
  }
}
`;

type Pod = KubeObject & { status?: { containerStatuses?: { restartCount: number }[] } };

describe("an operator killed with SIGKILL in the middle of a run", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("restart", { "main.tf": SLOW });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("comes back and finishes the run's status right: not lost, not run twice", async () => {
    const operatorPod = async () =>
      (await w.client.list<Pod>(RESOURCES.Pod, "ktf-system", { labelSelector: "app.kubernetes.io/component=operator" })).items[0];
    const restartsBefore = (await operatorPod())?.status?.containerStatuses?.[0]?.restartCount ?? 0;

    const apply = w.ktf(["apply", "-auto-approve"]);
    const running = await waitFor(async () => (await w.runs()).find((r) => r.status?.phase === "Running"), 120_000, "the run to start");
    const pids = await operatorPids();
    expect(pids).toHaveLength(1);
    process.kill(pids[0] ?? 0, "SIGKILL");

    const result = await apply;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    expect(runNameIn(result)).toBe(running.metadata.name);

    const runs = await w.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status?.phase).toBe("Succeeded");
    expect(runs[0]?.status?.startTime).toBe(running.status?.startTime);
    const pods = await w.client.list<Pod>(RESOURCES.Pod, w.ns);
    expect(pods.items.map((p) => p.metadata.name)).toEqual([running.metadata.name]);
    expect(pods.items[0]?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    // The kill was real: the kubelet restarted the operator's container.
    // (The process is gone and another runs; the pod's restartCount can lag well behind under load.)
    expect(() => process.kill(pids[0] ?? 0, 0)).toThrow();
    const after = await waitFor(async () => {
      const now = await operatorPids();
      return now.length === 1 && now[0] !== pids[0] ? now : undefined;
    }, 180_000, "the operator to run again");
    expect(after).not.toContain(pids[0]);
    const restarts = (await operatorPod())?.status?.containerStatuses?.[0]?.restartCount ?? 0;
    if (restarts <= restartsBefore) console.log(`the operator runs again, its pod not yet counting the restart (${restarts})`);
  });
});
