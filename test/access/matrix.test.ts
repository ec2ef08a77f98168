import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { harness, kubectl, ktf, type KtfResult } from "../harness/cluster.js";
import { configDir, runNameIn, workspaceFixture } from "../harness/workspace.js";
import { mintUser } from "../harness/users.js";

/**
 * Every role against every command, through ktf and by creating Runs with the API directly:
 * allowed ones succeed, denied ones fail with a message naming the missing permission and
 * leave no Run, pod or lock behind.
 */

const CONFIG = `
resource "terraform_data" "x" {
  input = "x"
}
resource "terraform_data" "y" {
  input = "y"
}
output "x" {
  value = terraform_data.x.output
}
`;

type User = "alice" | "bob" | "carol" | "dave";
const ROLES: Record<User, string> = { alice: "viewer", bob: "user", carol: "admin", dave: "user + apply on workspace a" };
const USERS = Object.keys(ROLES) as User[];

const RBAC_RUNS = /cannot create resource "runs" in API group "ktf.dev" in the namespace/;
const needsVerb = (verb: string, ws: string) => new RegExp(`needs the RBAC verb "${verb}" on workspaces.ktf.dev "${ws}"`);

interface Cell {
  name: string;
  args: (u: User) => string[];
  allowed: User[];
  denial: (u: User) => RegExp;
  /** What an allowed run prints. */
  success?: RegExp;
}

/** The last run each cell's allowed commands created, for cells that read a run. */
const ran: Record<string, string> = {};

const ktfCells: Cell[] = [
  { name: "plan", args: () => ["plan", "--workspace", "a"], allowed: ["bob", "carol", "dave"], denial: () => RBAC_RUNS, success: /Plan: 2 to add|No changes/ },
  { name: "runs logs", args: () => ["runs", "logs", ran.plan ?? ""], allowed: ["alice", "bob", "carol", "dave"], denial: () => /never/, success: /Plan: 2 to add/ },
  {
    name: "apply a",
    args: () => ["apply", "-auto-approve", "--workspace", "a"],
    allowed: ["carol", "dave"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("apply", "a")),
    success: /Apply complete!/,
  },
  {
    name: "apply b",
    args: () => ["apply", "-auto-approve", "--workspace", "b"],
    allowed: ["carol"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("apply", "b")),
    success: /Apply complete!/,
  },
  { name: "output", args: () => ["output", "--workspace", "a"], allowed: ["bob", "carol", "dave"], denial: () => RBAC_RUNS, success: /x = "x"/ },
  { name: "state list", args: () => ["state", "list", "--workspace", "a"], allowed: ["bob", "carol", "dave"], denial: () => RBAC_RUNS, success: /terraform_data\.y/ },
  {
    name: "refresh",
    args: () => ["refresh", "--workspace", "a"],
    allowed: ["carol"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("refresh", "a")),
    success: /Refreshing state/,
  },
  {
    name: "test",
    args: () => ["test", "--workspace", "a"],
    allowed: ["carol"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("test", "a")),
    success: /0 passed, 0 failed/,
  },
  { name: "runs list", args: () => ["runs", "list", "--all"], allowed: ["alice", "bob", "carol", "dave"], denial: () => /never/, success: /NAME\s+WORKSPACE/ },
  {
    name: "state rm",
    args: () => ["state", "rm", "terraform_data.y", "--workspace", "a"],
    allowed: ["carol"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("state", "a")),
    success: /Removed terraform_data\.y/,
  },
  {
    name: "destroy",
    args: () => ["destroy", "-auto-approve", "--workspace", "a"],
    allowed: ["carol"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("destroy", "a")),
    success: /Destroy complete!/,
  },
  {
    name: "workspace new",
    args: (u) => ["workspace", "new", `new-${u}`, "--no-select"],
    allowed: ["carol"],
    denial: () => /cannot create resource "workspaces" in API group "ktf.dev"/,
    success: /Created workspace/,
  },
  {
    name: "workspace delete",
    args: (u) => ["workspace", "delete", `del-${u}`],
    allowed: ["carol"],
    denial: () => /cannot delete resource "workspaces" in API group "ktf.dev"/,
    success: /Deleted workspace/,
  },
];

/** Runs created with the API directly (server-side dry run: admission decides, nothing is stored). */
interface ApiCell {
  name: string;
  spec: Record<string, unknown>;
  /** What the Run claims; by default its creator, as ktf claims it (a stock API server fills in nothing). */
  annotations?: (u: User) => Record<string, string> | undefined;
  allowed: User[];
  denial: (u: User) => RegExp;
}

const STOCK_API = harness().stockApi;

const apiCells: ApiCell[] = [
  { name: "plan", spec: { workspace: "a", command: "plan" }, allowed: ["bob", "carol", "dave"], denial: () => RBAC_RUNS },
  { name: "output", spec: { workspace: "a", command: "output" }, allowed: ["bob", "carol", "dave"], denial: () => RBAC_RUNS },
  { name: "state list", spec: { workspace: "a", command: "state", args: ["list"] }, allowed: ["bob", "carol", "dave"], denial: () => RBAC_RUNS },
  { name: "apply a", spec: { workspace: "a", command: "apply", args: ["-auto-approve"] }, allowed: ["carol", "dave"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("apply", "a")) },
  { name: "apply b", spec: { workspace: "b", command: "apply", args: ["-auto-approve"] }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("apply", "b")) },
  { name: "destroy", spec: { workspace: "a", command: "destroy", args: ["-auto-approve"] }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("destroy", "a")) },
  { name: "state rm", spec: { workspace: "a", command: "state", args: ["rm", "terraform_data.x"] }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("state", "a")) },
  { name: "refresh", spec: { workspace: "a", command: "refresh" }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("refresh", "a")) },
  { name: "test", spec: { workspace: "a", command: "test" }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("test", "a")) },
  { name: "state rollback", spec: { workspace: "a", command: "state", args: ["rollback", "1"] }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("state", "a")) },
  { name: "import", spec: { workspace: "a", command: "import", args: ["terraform_data.x", "id"] }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("import", "a")) },
  { name: "force-unlock", spec: { workspace: "a", command: "force-unlock", args: ["-force", "id"] }, allowed: ["carol"], denial: (u) => (u === "alice" ? RBAC_RUNS : needsVerb("force-unlock", "a")) },
  {
    name: "plan claiming another user",
    spec: { workspace: "a", command: "plan" },
    annotations: () => ({ "ktf.dev/created-by": "mallory" }),
    allowed: [],
    denial: (u) => (u === "alice" ? RBAC_RUNS : new RegExp(`created-by\\] must be the user creating the run \\(${u}\\), not "mallory"`)),
  },
  {
    // As with kubectl and no annotations: the mutating policy fills the claim in where the
    // cluster has that API; a stock one refuses the Run and says what to add.
    name: "plan claiming nobody",
    spec: { workspace: "a", command: "plan" },
    annotations: () => undefined,
    allowed: STOCK_API ? [] : ["bob", "carol", "dave"],
    denial: (u) => (u === "alice" ? RBAC_RUNS : new RegExp(`created-by\\] must be the user creating the run \\(${u}\\), not ""`)),
  },
];

const claimOf = (u: User) => ({ "ktf.dev/created-by": u, "ktf.dev/created-by-groups": "ktf-test-users,system:authenticated" });

describe("the access matrix (users x commands)", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let cfg: Awaited<ReturnType<typeof configDir>>;
  const kubeconfigs = {} as Record<User, string>;
  const tally = { ktf: { allowed: 0, denied: 0 }, api: { allowed: 0, denied: 0 } };

  beforeAll(async () => {
    w = await workspaceFixture("access", { "main.tf": CONFIG });
    cfg = await configDir({ "main.tf": CONFIG });
    for (const name of ["a", "b", ...USERS.map((u) => `del-${u}`)]) {
      await w.client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name, namespace: w.ns }, spec: {} });
    }
    const roleOf: Record<User, string> = { alice: "ktf-viewer", bob: "ktf-user", carol: "ktf-admin", dave: "ktf-user" };
    for (const u of USERS) {
      kubeconfigs[u] = await mintUser(u, ["ktf-test-users"]);
      await kubectl(["-n", w.ns, "create", "rolebinding", `${u}-ktf`, `--clusterrole=${roleOf[u]}`, `--user=${u}`]);
    }
    // dave may apply in workspace a, and only there.
    await kubectl(["-n", w.ns, "create", "role", "apply-a", "--verb=apply", "--resource=workspaces.ktf.dev", "--resource-name=a"]);
    await kubectl(["-n", w.ns, "create", "rolebinding", "dave-apply-a", "--role=apply-a", "--user=dave"]);
  });
  afterAll(async () => {
    console.log(
      `access matrix: ${USERS.length} users x ${ktfCells.length} ktf commands: ${tally.ktf.allowed} allowed, ${tally.ktf.denied} denied; ` +
        `${USERS.length} users x ${apiCells.length} API runs: ${tally.api.allowed} allowed, ${tally.api.denied} denied`,
    );
    await cfg.remove();
    await w.cleanup();
  });

  const counts = async () => ({
    runs: (await w.client.list(RESOURCES.Run, w.ns)).items.length,
    pods: (await w.client.list(RESOURCES.Pod, w.ns)).items.length,
  });
  const lockHolder = async (ws: string) =>
    (await w.client.get<KubeObject & { spec?: { holderIdentity?: string } }>(RESOURCES.Lease, w.ns, `lock-tfstate-default-${ws}`))?.spec?.holderIdentity ?? "";

  // 13 commands for 4 users, one after another: longer than one test is usually given.
  it("through ktf", { timeout: 900_000 }, async () => {
    for (const cell of ktfCells) {
      for (const u of USERS) {
        const before = await counts();
        const r: KtfResult = await ktf([...cell.args(u), "-n", w.ns], { cwd: cfg.dir, kubeconfig: kubeconfigs[u] });
        const what = `${u} (${ROLES[u]}): ktf ${cell.args(u).join(" ")}\n${r.stdout}\n${r.stderr}`;
        if (cell.allowed.includes(u)) {
          tally.ktf.allowed++;
          expect(r.code, what).toBe(0);
          if (cell.success) expect(r.stdout, what).toMatch(cell.success);
          if (/^ktf: run /m.test(r.stderr)) ran[cell.name] = runNameIn(r);
        } else {
          tally.ktf.denied++;
          expect(r.code, what).not.toBe(0);
          expect(r.stderr, what).toMatch(cell.denial(u));
          expect(await counts(), what).toEqual(before);
          expect(await lockHolder("a"), what).toBe("");
        }
      }
    }
    // The audit trail: each run says who created it.
    const list = await ktf(["runs", "list", "--all", "-n", w.ns], { cwd: cfg.dir });
    expect(list.stdout).toMatch(/a-apply-\S+\s+a\s+apply -auto-approve\s+Succeeded\s+0\s+carol/);
    expect(list.stdout).toMatch(/a-apply-\S+\s+a\s+apply -auto-approve\s+Succeeded\s+0\s+dave/);
    expect(list.stdout).toMatch(/a-plan-\S+\s+a\s+plan\s+Succeeded\s+0\s+bob/);
    const events = await kubectl(["-n", w.ns, "get", "events", "--field-selector", "reason=Started", "-o", "jsonpath={.items[*].message}"]);
    expect(events).toMatch(/for dave: apply in workspace a/);
  });

  it("by creating Runs with the API directly", async () => {
    for (const cell of apiCells) {
      for (const u of USERS) {
        const annotations = cell.annotations ? cell.annotations(u) : claimOf(u);
        const manifest = JSON.stringify({
          apiVersion: "ktf.dev/v1alpha1",
          kind: "Run",
          metadata: { generateName: "direct-", namespace: w.ns, ...(annotations ? { annotations } : {}) },
          spec: cell.spec,
        });
        const result = await kubectl(["create", "--dry-run=server", "-o", "json", "-f", "-"], { input: manifest, kubeconfig: kubeconfigs[u] }).then(
          (out) => ({ ok: true as const, out }),
          (err: Error) => ({ ok: false as const, out: err.message }),
        );
        const what = `${u} (${ROLES[u]}): Run ${cell.name}\n${result.out}`;
        if (cell.allowed.includes(u)) {
          tally.api.allowed++;
          expect(result.ok, what).toBe(true);
          // Admission recorded the requester as the creator.
          expect((JSON.parse(result.out) as KubeObject).metadata.annotations?.["ktf.dev/created-by"], what).toBe(u);
        } else {
          tally.api.denied++;
          expect(result.ok, what).toBe(false);
          expect(result.out, what).toMatch(cell.denial(u));
        }
      }
    }
    expect((await w.client.list(RESOURCES.Run, w.ns)).items.filter((r) => r.metadata.name?.startsWith("direct-"))).toHaveLength(0);
  });
});
