import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema, type Run } from "../../src/api/run.js";
import { workspaceSchema, type Workspace } from "../../src/api/workspace.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { otfNamespace, otfWorld } from "../harness/cloud.js";
import { ktf, kubectl, testNamespace, waitFor, type KtfResult } from "../harness/cluster.js";
import { mintUser } from "../harness/users.js";
import { configDir, runNameIn } from "../harness/workspace.js";

const SECRET_WORD = `tfc-run-secret-${randomBytes(6).toString("hex")}`;

const MAIN_TF = `
variable "greeting" {}
variable "secret_word" {
  sensitive = true
}
resource "terraform_data" "x" {
  input = var.greeting
}
output "said" {
  value = "\${terraform_data.x.output} (\${nonsensitive(length(var.secret_word))} secret characters)"
}
`;

/**
 * Runs of a workspace synced to a real TFC API server (OTF): the same CLI, the Run kind and
 * RBAC of ktf, the engine and the state in TFC; the output streamed from OTF's log URLs.
 */
describe("runs of a Terraform Cloud workspace (OTF)", () => {
  const world = otfWorld("ktf-runs");
  const { tfc, kube } = world;
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let cfg: Awaited<ReturnType<typeof configDir>>;
  let mallory: string;

  const cli = (args: string[], options: { input?: string; kubeconfig?: string } = {}) => ktf([...args, "-n", ns.name, "--workspace", "app"], { cwd: cfg.dir, ...options });
  const readWs = async (): Promise<Workspace> => workspaceSchema.parse(await kube.get(RESOURCES.Workspace, ns.name, "app"));
  const readRun = async (name: string): Promise<Run> => runSchema.parse(await kube.get(RESOURCES.Run, ns.name, name));
  /** Nothing a run printed or recorded holds the sensitive value. */
  const expectNoSecret = async (...results: KtfResult[]) => {
    const runs = await kubectl(["-n", ns.name, "get", "runs", "-o", "json"]);
    const events = await kubectl(["-n", ns.name, "get", "events", "-o", "json"]);
    for (const text of [...results.flatMap((r) => [r.stdout, r.stderr]), runs, events]) expect(text).not.toContain(SECRET_WORD);
  };

  beforeAll(async () => {
    ns = await otfNamespace(world, "cloud-runs", { word: SECRET_WORD });
    cfg = await configDir({ "main.tf": MAIN_TF });
    await kube.create({
      apiVersion: "ktf.dev/v1alpha1",
      kind: "Workspace",
      metadata: { name: "app", namespace: ns.name },
      spec: {
        cloud: world.cloud(),
        variables: [{ name: "greeting", value: "hi" }, { name: "secret_word", valueFrom: { secretKeyRef: { name: "tfc-token", key: "word" } } }],
      },
    });
    await waitFor(async () => (await readWs()).status?.conditions?.some((c) => c.type === "Ready" && c.reason === "CloudSynced"), 60_000, "workspace app synced to OTF");
    mallory = await mintUser("mallory");
    await kubectl(["-n", ns.name, "create", "rolebinding", "mallory-ktf", "--clusterrole=ktf-user", "--user=mallory"]);
  });
  afterAll(async () => {
    kube.close();
    await cfg?.remove();
    await ns?.remove();
  });

  it("plans in TFC with the output streamed from OTF, no pod in the cluster, and exits as the engine would", async () => {
    const plan = await cli(["plan"]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("terraform_data.x will be created");
    expect(plan.stdout).toContain("Plan: 1 to add, 0 to change, 0 to destroy.");
    const run = await readRun(runNameIn(plan));
    expect(run.status).toMatchObject({ phase: "Succeeded", exitCode: 0, plan: { add: 1, change: 0, destroy: 0 } });
    expect(run.status?.podName).toBeUndefined();
    const remote = await tfc.runs.get(run.status?.cloud?.runId ?? "");
    // Finished at its plan although it has changes: a speculative run, never applied (OTF does not echo plan-only).
    expect(remote).toMatchObject({ status: "planned_and_finished", hasChanges: true });
    // The configuration version recorded before the run was made: how a crashed reconcile finds its run.
    expect(remote.configurationVersionId).toBe(run.status?.cloud?.configurationVersionId);
    expect(await kubectl(["-n", ns.name, "get", "pods", "-o", "name"])).toBe("");

    const detailed = await cli(["plan", "-detailed-exitcode"]);
    expect(detailed.code, detailed.stderr).toBe(2);
    await expectNoSecret(plan, detailed);
  });

  it("refuses what a TFC run cannot take, naming it, before anything runs", async () => {
    const withVar = await cli(["plan", "-var", "greeting=x"]);
    expect(withVar.code).toBe(1);
    expect(withVar.stderr).toMatch(/-var is not taken by a TFC run: set the workspace's variables in its spec.variables/);
    const state = await cli(["state", "list"]);
    expect(state.code).toBe(1);
    expect(state.stderr).toMatch(/state does not run on a TFC workspace: ktf runs plan, apply and destroy there/);
  });

  it("lets a user who may only plan do that, and refuses their apply for want of the RBAC verb: the broad token widens nothing", async () => {
    const plan = await cli(["plan"], { kubeconfig: mallory });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain("Plan: 1 to add");
    const apply = await cli(["apply", "-auto-approve"], { kubeconfig: mallory });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(/you may not run apply in workspace app: it needs the RBAC verb "apply"/);
    expect(await tfc.stateVersions.current((await readWs()).status?.cloud?.workspaceId ?? "")).toBeUndefined();
  });

  it("applies after asking: the plan's TFC run is confirmed, its apply log streamed, the outputs come back", async () => {
    const apply = await cli(["apply"], { input: "yes\n" });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain("Plan: 1 to add, 0 to change, 0 to destroy.");
    expect(apply.stderr).toMatch(/ktf: the saved plan \(run \S+\): 1 to add, 0 to change, 0 to destroy/);
    expect(apply.stdout).toContain("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    const runs = [...apply.stderr.matchAll(/ktf: run (\S+) \(workspace/g)].map((m) => m[1] ?? "");
    expect(runs).toHaveLength(2);
    const [planRun, applyRun] = await Promise.all(runs.map(readRun));
    // One TFC run: planned by the first Run, confirmed by the second.
    expect(applyRun?.status?.cloud).toMatchObject({ runId: planRun?.status?.cloud?.runId, confirmed: true, status: "applied" });
    expect((await tfc.runs.get(planRun?.status?.cloud?.runId ?? "")).status).toBe("applied");

    const ws = await waitFor(async () => {
      const now = await readWs();
      return now.status?.outputs?.length ? now : undefined;
    }, 60_000, "the outputs in status");
    expect(ws.status?.outputs).toEqual([{ name: "said", type: '"string"', value: JSON.stringify(`hi (${SECRET_WORD.length} secret characters)`) }]);
    const said = await cli(["output", "-raw", "said"]);
    expect(said.code, said.stderr).toBe(0);
    expect(said.stdout).toBe(`hi (${SECRET_WORD.length} secret characters)`);
    await expectNoSecret(apply, said);
  });

  it("discards the TFC run when the answer is no, so it holds no queue", async () => {
    await kube.patch(RESOURCES.Workspace, ns.name, "app", { spec: { variables: [{ name: "greeting", value: "hello" }, { name: "secret_word", valueFrom: { secretKeyRef: { name: "tfc-token", key: "word" } } }] } });
    await waitFor(async () => {
      const ws = await readWs();
      return ws.status?.conditions?.some((c) => c.type === "Ready" && c.reason === "CloudSynced" && c.observedGeneration === ws.metadata.generation);
    }, 60_000, "the new variable synced");
    const apply = await cli(["apply"], { input: "no\n" });
    expect(apply.code).toBe(1);
    expect(apply.stdout).toContain("1 to change");
    expect(apply.stderr).toContain("Apply cancelled.");
    const plan = await readRun(runNameIn(apply));
    await waitFor(async () => (await tfc.runs.get(plan.status?.cloud?.runId ?? "")).status === "discarded", 60_000, "the TFC run discarded");
  });

  it("destroys with -auto-approve in one TFC run", async () => {
    const destroy = await cli(["destroy", "-auto-approve"]);
    expect(destroy.code, destroy.stderr).toBe(0);
    // As TFC prints a destroy run's apply.
    expect(destroy.stdout).toContain("Apply complete! Resources: 0 added, 0 changed, 1 destroyed.");
    const run = await readRun(runNameIn(destroy));
    expect((await tfc.runs.get(run.status?.cloud?.runId ?? "")).isDestroy).toBe(true);
  });
});
