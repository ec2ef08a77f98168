import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, waitFor } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";
import { mintUser } from "../harness/users.js";
import { SIDECAR_ATTACK_JS } from "../harness/sidecar-attack.js";

const MAIN = `
resource "terraform_data" "keep" {
  input = "precious"
}
`;

/**
 * What mallory's test runs: a provisioner (the configuration's own code, in the run pod)
 * that calls the state sidecar the way an attacker would, and prints each answer.
 */
const ATTACK_JS = `${SIDECAR_ATTACK_JS}
attackSidecar([
  ["read-lock-holder", "/lock", { method: "GET" }],
  ["post-plan", "/plan", { method: "POST", body: "not a plan" }],
]);
`;

const ATTACK_MODULE = `
resource "terraform_data" "attack" {
  provisioner "local-exec" {
    command = "node \${path.module}/attack.js"
  }
}
`;

const TEST = `
run "attack" {
  command = apply
  module {
    source = "./attack"
  }
}
`;

describe("a hostile configuration's code calling the state sidecar", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let mallory: string;
  beforeAll(async () => {
    w = await workspaceFixture("hostile", { "main.tf": MAIN, "attack/main.tf": ATTACK_MODULE, "attack/attack.js": ATTACK_JS, "tests/attack.tftest.hcl": TEST });
    mallory = await mintUser("mallory");
    await kubectl(["-n", w.ns, "create", "rolebinding", "mallory-ktf", "--clusterrole=ktf-user", "--user=mallory"]);
    expect((await w.ktf(["apply", "-auto-approve"])).code).toBe(0);
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("may not run test at all by default: test creates real infrastructure", async () => {
    const r = await w.ktf(["test"], { kubeconfig: mallory });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs the RBAC verb "test" on workspaces.ktf.dev "main"/);
  });

  it("changes nothing where test is allowed: every call is refused with a status that says why", async () => {
    await kubectl(["-n", w.ns, "patch", "workspace", "main", "--type=merge", "-p", JSON.stringify({ spec: { privilegedCommands: ["apply", "destroy", "state", "refresh"] } })]);
    const before = await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main", "-o", "jsonpath={.metadata.resourceVersion}"]);
    const r = await w.ktf(["test"], { kubeconfig: mallory });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toMatch(/ATTACK delete 405 .*never deletes/);
    expect(out).toMatch(/ATTACK post-without-lock-id 403 .*writing the state is not allowed for this run's command \(its state access is read\)/);
    expect(out).toMatch(/ATTACK post-other-lineage 403 /);
    expect(out).toMatch(/ATTACK post-lower-serial 403 /);
    expect(out).toMatch(/ATTACK read-lock-holder 403 /);
    expect(out).toMatch(/ATTACK unlock-other 403 .*releasing lock someone-elses, which this run did not take/);
    expect(out).toMatch(/ATTACK post-plan 404 .*does not save a plan/);

    // The state is exactly as it was, and the admin's state list still shows it.
    expect(await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main", "-o", "jsonpath={.metadata.resourceVersion}"])).toBe(before);
    const list = await w.ktf(["state", "list"]);
    expect(list.stdout).toContain("terraform_data.keep");
    // The refusals are on record for whoever looks at the run.
    const run = runNameIn(r);
    const events = await waitFor(async () => {
      const text = await kubectl(["-n", w.ns, "get", "events", "--field-selector", `involvedObject.name=${run},reason=StateRequestRefused`, "-o", "jsonpath={.items[*].message}"]);
      return text || undefined;
    }, 30_000, "the StateRequestRefused event");
    expect(events).toMatch(/DELETE \/state: 405/);
  });

  it("runs as another user than the state sidecar, which the engine's processes cannot reach", async () => {
    const pod = JSON.parse(await kubectl(["-n", w.ns, "get", "pods", "-l", "ktf.dev/component=run", "-o", "json"])) as {
      items: { spec: { securityContext: { runAsUser: number }; initContainers: { name: string; securityContext: { runAsUser?: number }; volumeMounts: { name: string }[] }[]; containers: { volumeMounts: { name: string }[] }[] } }[];
    };
    const spec = pod.items[0]?.spec;
    const sidecar = spec?.initContainers.find((c) => c.name === "state");
    expect(sidecar?.securityContext.runAsUser).not.toBe(spec?.securityContext.runAsUser);
    const runnerVolumes = new Set(spec?.containers[0]?.volumeMounts.map((m) => m.name));
    for (const m of sidecar?.volumeMounts ?? []) expect(runnerVolumes.has(m.name), m.name).toBe(false);
  });
});
