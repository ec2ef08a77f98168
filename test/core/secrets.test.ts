import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/client.js";
import { kubectl } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

const SECRET = "s3cr3t-Value-9f8e7d";

const CONFIG = `
variable "password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "db" {
  input = var.password
}
output "password_sha256" {
  value = nonsensitive(sha256(var.password))
}
output "password" {
  value     = var.password
  sensitive = true
}
`;

describe("a sensitive variable from a Secret", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("secrets", { "main.tf": CONFIG }, ["--secret-var", "password=db-credentials/password"]);
    await w.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "db-credentials", namespace: w.ns }, stringData: { password: SECRET } });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("reaches the engine and appears in no log, event, status or CLI output", async () => {
    const apply = await w.ktf(["apply", "-auto-approve"]);
    expect(apply.code).toBe(0);
    // The engine saw the value: the hash of what it got matches.
    expect(apply.stdout).toContain(`password_sha256 = "${createHash("sha256").update(SECRET).digest("hex")}"`);
    const output = await w.ktf(["output"]);
    const plan = await w.ktf(["plan"]);
    const show = await w.ktf(["workspace", "show"]);
    for (const r of [apply, output, plan, show]) expect(r.stdout + r.stderr).not.toContain(SECRET);

    for (const run of await w.runs()) expect(await kubectl(["-n", w.ns, "logs", run.metadata.name ?? ""])).not.toContain(SECRET);
    const operatorLogs = await kubectl(["-n", "ktf-system", "logs", "deploy/ktf-operator", "--tail=-1"]);
    expect(operatorLogs).not.toContain(SECRET);
    const events = await kubectl(["-n", w.ns, "get", "events", "-o", "json"]);
    expect(events).not.toContain(SECRET);
    const objects = await kubectl(["-n", w.ns, "get", "runs.ktf.dev,workspaces.ktf.dev,pods", "-o", "json"]);
    expect(objects).not.toContain(SECRET);
    // The pod takes it from the Secret; the value itself is in no object ktf wrote.
    expect(objects).toContain('"secretKeyRef"');
    expect(runNameIn(apply)).toMatch(/^main-apply-/);

    // All outputs, sensitive ones too, are in the Secret the workspace owns, and only there.
    const outputs = await w.client.get<KubeObject & { data: Record<string, string> }>(RESOURCES.Secret, w.ns, "main-outputs");
    expect(JSON.parse(Buffer.from(outputs?.data.password ?? "", "base64").toString())).toBe(SECRET);
    // The ConfigMap of the same name has the non-sensitive ones alone.
    const visible = await w.client.get<KubeObject & { data: Record<string, string> }>(RESOURCES.ConfigMap, w.ns, "main-outputs");
    expect(visible?.data).toEqual({ password_sha256: createHash("sha256").update(SECRET).digest("hex") });
  });
});
