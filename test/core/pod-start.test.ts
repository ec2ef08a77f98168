import { describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { kubectl } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

type Fixture = Awaited<ReturnType<typeof workspaceFixture>>;

/** A plan in a fresh workspace that `prepare` spoils; the run and the CLI's result are returned. */
async function planIn(prefix: string, files: Record<string, string>, newArgs: string[], prepare: (w: Fixture) => Promise<void>) {
  const w = await workspaceFixture(prefix, files, newArgs);
  try {
    await prepare(w);
    const plan = await w.ktf(["plan"]);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    const complete = run?.status?.conditions?.find((c) => c.type === "Complete");
    const pod = await w.client.get(RESOURCES.Pod, w.ns, run?.metadata.name ?? "");
    return { plan, run, complete, pod };
  } finally {
    await w.cleanup();
  }
}

const patchWorkspace = (spec: object) => (w: Fixture) => w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec }).then(() => undefined);

// The e2e operator gives up after 20 s; each case waits that long, so they run side by side.
describe.concurrent("a run whose pod cannot start says why while it waits, then fails with the reason", () => {
  it("a Secret the runner needs does not exist", async () => {
    const r = await planIn("podstart", { "main.tf": 'variable "token" {}\n' }, ["--secret-var", "token=missing-secret/token"], async () => {});
    expect(r.plan.stderr).toMatch(/container runner: CreateContainerConfigError: secret "missing-secret" not found/);
    expect(r.plan.code).toBe(1);
    expect(r.run?.status?.phase).toBe("Failed");
    expect(r.complete?.reason).toBe("PodCannotStart");
    expect(r.complete?.message).toMatch(/could not start in 20s: container runner: CreateContainerConfigError: secret "missing-secret" not found/);
    expect(r.pod).toBeUndefined();
  });

  it("the image cannot be pulled (the state sidecar, an init container, is the first to fail; the runner stays PodInitializing)", async () => {
    const r = await planIn("podimage", { "main.tf": "" }, [], patchWorkspace({ image: "localhost:1/ktf/no-such-image:1" }));
    expect(r.plan.stderr).toMatch(/ktf: run \S+: container state: (ErrImagePull|ImagePullBackOff)/);
    expect(r.plan.code).toBe(1);
    expect(r.run?.status?.phase).toBe("Failed");
    expect(r.complete?.reason).toBe("PodCannotStart");
    expect(r.complete?.message).toMatch(/could not start in 20s: container state: (ErrImagePull|ImagePullBackOff)/);
    expect(r.pod).toBeUndefined();
  });

  it("no node can run it", async () => {
    const r = await planIn("podsched", { "main.tf": "" }, [], patchWorkspace({ nodeSelector: { "ktf.dev/no-such-node": "true" } }));
    expect(r.plan.stderr).toMatch(/ktf: run \S+: Unschedulable: 0\/1 nodes are available/);
    expect(r.plan.code).toBe(1);
    expect(r.complete?.reason).toBe("PodCannotStart");
    expect(r.complete?.message).toMatch(/could not start in 20s: Unschedulable: 0\/1 nodes are available: .*node affinity\/selector/);
    expect(r.pod).toBeUndefined();
  });

  it("a quota refuses the pod (the API says no at creation: retried, shown, then failed; the next run starts)", async () => {
    const w = await workspaceFixture("podquota", { "main.tf": "" });
    try {
      await kubectl(["-n", w.ns, "create", "quota", "no-pods", "--hard=pods=0"]);
      const plan = await w.ktf(["plan"]);
      expect(plan.stderr).toMatch(/ktf: run \S+: the run's pod was refused: .*exceeded quota: no-pods/);
      expect(plan.code).toBe(1);
      const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
      const complete = run?.status?.conditions?.find((c) => c.type === "Complete");
      expect(run?.status?.phase).toBe("Failed");
      expect(complete?.reason).toBe("PodCannotStart");
      expect(complete?.message).toMatch(/could not be created in 20s: .*exceeded quota: no-pods/);
      await kubectl(["-n", w.ns, "delete", "quota", "no-pods"]);
      const next = await w.ktf(["plan"]);
      expect(next.stderr).not.toMatch(/waiting for run/);
      expect(next.code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });
});
