import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, RUN } from "../../src/api/group.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { waitFor } from "../harness/cluster.js";
import { runNameIn, SLOW, workspaceFixture } from "../harness/workspace.js";

describe("runs that change state", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("queue", { "main.tf": SLOW });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("run one at a time per workspace, in the order they were created, and all complete", async () => {
    const first = w.ktf(["apply", "-auto-approve", "-var", "tag=a"]);
    // The second is created while the first holds the workspace.
    await new Promise((r) => setTimeout(r, 1500));
    const second = w.ktf(["apply", "-auto-approve", "-var", "tag=b"]);
    const [a, b] = await Promise.all([first, second]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toContain("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    expect(b.stdout).toContain("Apply complete! Resources: 1 added, 0 changed, 1 destroyed.");
    expect(b.stderr).toContain(`waiting for run ${runNameIn(a)}`);

    const runs = await w.runs();
    const runA = runs.find((r) => r.metadata.name === runNameIn(a));
    const runB = runs.find((r) => r.metadata.name === runNameIn(b));
    expect(Date.parse(runB?.status?.startTime ?? "")).toBeGreaterThanOrEqual(Date.parse(runA?.status?.completionTime ?? "x"));
  });

  it("lets read-only commands through while the workspace is busy", async () => {
    const apply = w.ktf(["apply", "-auto-approve", "-var", "tag=c", "-var", "seconds=30"]);
    const busy = await waitFor(async () => (await w.runs()).find((r) => r.spec.args.includes("tag=c") && r.status?.phase === "Running"), 120_000, "the apply to run");
    const validate = await w.ktf(["validate"]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain("Success! The configuration is valid.");
    expect(validate.stderr).not.toContain("waiting for run");
    // It went through while the apply still held the workspace.
    const still = (await w.runs()).find((r) => r.metadata.name === busy.metadata.name);
    expect(still?.status?.phase).toBe("Running");
    expect((await apply).code).toBe(0);
  });

  it("do not wait behind a run whose configuration never finished uploading (a CLI stopped mid-upload)", async () => {
    // What a CLI killed between creating its run and uploading the second of two chunks leaves.
    const stalled = "main-apply-stalledupload";
    await w.client.create({
      apiVersion: API_VERSION,
      kind: RUN.kind,
      metadata: { name: stalled, namespace: w.ns },
      spec: { workspace: "main", command: "apply", args: ["-auto-approve"], archive: { name: `${stalled}-cfg`, digest: `sha256:${"0".repeat(64)}`, size: 1_000_000, chunks: 2 } },
    });
    try {
      await waitFor(async () => (await w.runs()).find((r) => r.metadata.name === stalled && r.status?.conditions?.some((c) => c.reason === "WaitingForArchive")), 60_000, "the stalled run to wait for its upload");
      const apply = await w.ktf(["apply", "-auto-approve", "-var", "tag=d"]);
      expect(apply.code).toBe(0);
      expect(apply.stderr).not.toContain(`waiting for run ${stalled}`);
      const left = (await w.runs()).find((r) => r.metadata.name === stalled);
      expect(left?.status?.phase).toBe("Queued");
    } finally {
      await w.client.delete(RESOURCES.Run, w.ns, stalled);
    }
  });
});

