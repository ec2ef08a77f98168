import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";
import { mintUser } from "../harness/users.js";

const TOKEN = "tok-5up3r-s3cr3t-4b1c";
const CONFIG = `
variable "token" {
  type      = string
  sensitive = true
}
resource "terraform_data" "uses" {
  input = sha256(var.token)
}
output "tok" {
  value     = var.token
  sensitive = true
}
`;

describe("output that carries the state's secrets", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let victor: string;
  let victorHome: string;
  beforeAll(async () => {
    w = await workspaceFixture("sealed", { "main.tf": CONFIG }, ["--secret-var", "token=api/token"]);
    await w.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "api", namespace: w.ns }, stringData: { token: TOKEN } });
    victor = await mintUser("victor");
    await kubectl(["-n", w.ns, "create", "rolebinding", "victor-ktf", "--clusterrole=ktf-viewer", "--user=victor"]);
    // Victor works on his own machine: none of the admin's keys are there.
    victorHome = await mkdtemp(join(tmpdir(), "ktf-victor-"));
    expect((await w.ktf(["apply", "-auto-approve"])).code).toBe(0);
  });
  afterAll(async () => {
    await rm(victorHome, { recursive: true, force: true });
    await w.cleanup();
  });

  it("reaches the admin who asked for it, and nobody else who reads the run's log", async () => {
    const output = await w.ktf(["output", "-json"]);
    const pull = await w.ktf(["state", "pull"]);
    const show = await w.ktf(["show", "-json"]);
    for (const r of [output, pull, show]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(TOKEN);
    }
    // The engine's stdout alone: output -json parses.
    expect((JSON.parse(output.stdout) as { tok: { value: string } }).tok.value).toBe(TOKEN);
    // The admin's own ktf can show the log again later.
    const again = await w.ktf(["runs", "logs", runNameIn(output)]);
    expect(again.stdout).toContain(TOKEN);

    for (const r of [output, pull, show]) {
      const run = runNameIn(r);
      const viewer = await w.ktf(["runs", "logs", run], { kubeconfig: victor, env: { HOME: victorHome } });
      expect(viewer.code, viewer.stderr).toBe(0);
      expect(viewer.stdout + viewer.stderr).not.toContain(TOKEN);
      expect(viewer.stderr).toMatch(/carries the state's values, so it is sealed to the ktf that started it/);
      const raw = await kubectl(["-n", w.ns, "logs", run], { kubeconfig: victor });
      expect(raw).not.toContain(TOKEN);
      expect(raw).toMatch(/^ktf:sealed:1:key:/m);
    }
  });

  it("refuses a run of such a command that names no key to seal to", async () => {
    const name = "unsealed-output";
    await w.client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name, namespace: w.ns }, spec: { workspace: "main", command: "output", args: ["-json"] } });
    const logs = await w.ktf(["runs", "logs", name, "-f"]);
    expect(logs.code).toBe(1);
    expect(logs.stdout + logs.stderr).not.toContain(TOKEN);
    expect(logs.stderr).toMatch(/carries the state's values, so it is only sealed to its creator: the run needs spec.outputKey/);
  });
});
