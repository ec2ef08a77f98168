import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

const TOKEN = "cli-config-token-5f1e9c";
const CONFIG = `credentials "registry.example.com" {\n  token = "${TOKEN}"\n}\nplugin_cache_may_break_dependency_lock_file = false\n`;

describe("the engine's CLI configuration", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("cliconfig", { "main.tf": "" });
    await w.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "engine-config", namespace: w.ns }, stringData: { "config.tfrc": CONFIG } });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("comes from the workspace's Secret as TF_CLI_CONFIG_FILE, and its token shows nowhere", async () => {
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec: { cliConfig: { secretName: "engine-config" } } });
    const seen = await w.ktf(["sh", "--", "sh", "-c", 'echo "$TF_CLI_CONFIG_FILE"; grep -c "token = " "$TF_CLI_CONFIG_FILE"; tofu init -input=false >/dev/null && echo init-ok']);
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toBe("/var/run/secrets/ktf/cli-config/config.tfrc\n1\ninit-ok\n");
    const plan = await w.ktf(["plan"]);
    expect(plan.code, plan.stderr).toBe(0);
    const run = (await w.runs()).find((r) => r.metadata.name === runNameIn(plan));
    for (const text of [plan.stdout, plan.stderr, JSON.stringify(run)]) expect(text).not.toContain(TOKEN);
  });

  it("fails a run clearly when the Secret it names does not exist", async () => {
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec: { cliConfig: { secretName: "no-such-config" } } });
    const plan = await w.ktf(["plan"]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/spec.cliConfig.secretName: Secret no-such-config does not exist in namespace/);
  });
});
