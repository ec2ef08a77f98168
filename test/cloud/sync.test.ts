import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceSchema, type Workspace } from "../../src/api/workspace.js";
import { packConfiguration } from "../../src/archive/pack.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { otfNamespace, otfWorld } from "../harness/cloud.js";
import { kubectl, testNamespace, waitFor } from "../harness/cluster.js";

const SECRET_WORD = `tfc-secret-${randomBytes(6).toString("hex")}`;

/**
 * Workspaces synced to a real TFC API server (OTF on PostgreSQL, scripts/otf.sh): what the
 * operator sets there is read back through the API, as a TFC user would see it.
 */
describe("a workspace synced to Terraform Cloud (OTF)", () => {
  const world = otfWorld("ktf-e2e");
  const { h, tfc, org, kube } = world;
  let ns: Awaited<ReturnType<typeof testNamespace>>;

  const cloudWorkspace = (name: string, cloud: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) => ({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: ns.name },
    spec: {
      cloud: world.cloud(cloud),
      ...spec,
    },
  });
  const read = async (name: string): Promise<Workspace> => workspaceSchema.parse(await kube.get(RESOURCES.Workspace, ns.name, name));
  const ready = (name: string, reason: string) =>
    waitFor(async () => {
      const ws = await read(name);
      const c = ws.status?.conditions?.find((x) => x.type === "Ready");
      return c?.reason === reason && c.observedGeneration === ws.metadata.generation ? ws : undefined;
    }, 60_000, `workspace ${name} Ready with ${reason}`);
  /** Wakes the operator now rather than at its next resync. */
  const poke = (name: string) => kubectl(["-n", ns.name, "annotate", "--overwrite", "workspace", name, `ktf.dev/poke=${Date.now()}`]);
  const vars = async (wsId: string) => Object.fromEntries((await tfc.variables.list(wsId)).map((v) => [`${v.category}:${v.key}`, v]));

  beforeAll(async () => {
    ns = await otfNamespace(world, "cloud");
    await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "words", namespace: ns.name }, stringData: { secret: SECRET_WORD } });
  });
  afterAll(async () => {
    kube.close();
    await ns.remove();
  });

  it("creates the TFC workspace with its settings and variables; a sensitive one is write-only and shows nowhere", async () => {
    await kube.create(
      cloudWorkspace("net", { tags: ["team-a", "network"] }, {
        variables: [{ name: "greeting", value: "hello" }, { name: "secret_word", valueFrom: { secretKeyRef: { name: "words", key: "secret" } } }, { name: "numbers", value: "[1, 2]", hcl: true }],
        env: [{ name: "FOO", value: "bar" }],
      }),
    );
    const ws = await ready("net", "CloudSynced");
    const remote = await tfc.workspaces.byName(org, `${ns.name}-net`);
    expect(remote?.id).toBe(ws.status?.cloud?.workspaceId);
    expect(remote?.terraformVersion).toBe(h.otf.OTF_TERRAFORM_VERSION);
    expect(remote?.autoApply).toBe(false);
    expect((await tfc.workspaces.tags(remote?.id ?? "")).sort()).toEqual(["network", "team-a"]);
    const v = await vars(remote?.id ?? "");
    expect(v["terraform:greeting"]).toMatchObject({ value: "hello", sensitive: false });
    expect(v["terraform:numbers"]).toMatchObject({ value: "[1, 2]", hcl: true });
    expect(v["env:FOO"]).toMatchObject({ value: "bar" });
    expect(v["terraform:secret_word"]).toMatchObject({ sensitive: true });
    expect(v["terraform:secret_word"]?.value).toBeUndefined();
    // Not in the status (only an HMAC), the events, or the operator's log.
    const events = await kubectl(["-n", ns.name, "get", "events", "-o", "json"]);
    const logs = await kubectl(["-n", "ktf-system", "logs", "deploy/ktf-operator", "--all-containers", "--tail=2000"]);
    for (const text of [JSON.stringify(ws), events, logs]) expect(text).not.toContain(SECRET_WORD);
  });

  it("keeps the variables as the spec says: changed, removed, and put back when changed in TFC", async () => {
    const wsId = (await read("net")).status?.cloud?.workspaceId ?? "";
    await kube.patch(RESOURCES.Workspace, ns.name, "net", { spec: { variables: [{ name: "greeting", value: "hi" }, { name: "secret_word", valueFrom: { secretKeyRef: { name: "words", key: "secret" } } }] } });
    await ready("net", "CloudSynced");
    let v = await vars(wsId);
    expect(v["terraform:greeting"]?.value).toBe("hi");
    expect(v["terraform:numbers"]).toBeUndefined();

    await tfc.variables.update(wsId, v["terraform:greeting"]?.id ?? "", { value: "edited in TFC" });
    await poke("net");
    v = await waitFor(async () => {
      const now = await vars(wsId);
      return now["terraform:greeting"]?.value === "hi" ? now : undefined;
    }, 60_000, "the variable put back");
    expect(v["terraform:greeting"]?.value).toBe("hi");
    const restored = await kubectl(["-n", ns.name, "get", "events", "--field-selector", "reason=CloudVariableRestored", "-o", "jsonpath={.items[*].message}"]);
    expect(restored).toContain("Variable greeting (terraform) was changed in TFC; set it back as the spec says");

    // A sensitive value changed in its Secret is pushed again: the HMAC in status tells.
    const before = (await read("net")).status?.cloud?.variables?.["terraform:secret_word"];
    await kube.patch(RESOURCES.Secret, ns.name, "words", { stringData: { secret: `${SECRET_WORD}-2` } });
    await poke("net");
    await waitFor(async () => {
      const after = (await read("net")).status?.cloud?.variables?.["terraform:secret_word"];
      return after && after !== before ? after : undefined;
    }, 60_000, "the sensitive variable pushed again");
  });

  it("brings the state's outputs and serial back from TFC", async () => {
    const wsId = (await read("net")).status?.cloud?.workspaceId ?? "";
    const dir = await mkdtemp(join(tmpdir(), "ktf-e2e-cloud-"));
    try {
      await writeFile(join(dir, "main.tf"), 'variable "greeting" {}\nvariable "secret_word" {\n  sensitive = true\n}\nresource "terraform_data" "x" {\n  input = var.greeting\n}\noutput "said" {\n  value = terraform_data.x.output\n}\noutput "word" {\n  value     = var.secret_word\n  sensitive = true\n}\n');
      const packed = await packConfiguration(dir);
      const cv = await tfc.configurationVersions.create(wsId);
      await tfc.configurationVersions.upload(cv, packed.bytes);
      await tfc.configurationVersions.waitUploaded(cv.id);
      const run = await tfc.runs.create({ workspaceId: wsId, configurationVersionId: cv.id, autoApply: true, message: "e2e" });
      const done = await tfc.runs.waitFor(run.id, (r) => r.status === "applied", { timeoutMs: 120_000 });
      expect(done.status).toBe("applied");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await poke("net");
    const ws = await waitFor(async () => {
      const now = await read("net");
      return now.status?.outputs?.length ? now : undefined;
    }, 60_000, "the outputs in status").catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify((await read("net")).status)}`);
    });
    expect(ws.status?.outputs).toEqual([{ name: "said", type: '"string"', value: '"hi"' }]);
    expect(ws.status?.stateSerial).toBeGreaterThanOrEqual(1);
    const secret = JSON.parse(await kubectl(["-n", ns.name, "get", "secret", ws.status?.outputsSecret ?? "", "-o", "json"])) as { data: Record<string, string> };
    expect(Buffer.from(secret.data.said ?? "", "base64").toString()).toBe('"hi"');
    // The non-sensitive ones in the ConfigMap of the same name, a string as it is.
    const configMap = JSON.parse(await kubectl(["-n", ns.name, "get", "configmap", ws.status?.outputsConfigMap ?? "", "-o", "json"])) as { data: Record<string, string> };
    expect(configMap.data).toEqual({ said: "hi" });
  });

  it("adopts an existing TFC workspace only when told to", async () => {
    const existing = await tfc.workspaces.create(org, { name: "taken", description: "made by hand" });
    await kube.create(cloudWorkspace("taken", { workspace: "taken" }));
    const refused = await ready("taken", "CloudWorkspaceTaken");
    expect(refused.status?.conditions?.find((c) => c.type === "Ready")?.message).toMatch(/TFC workspace .*\/taken exists and is not this Workspace's: set spec.cloud.adopt: true/);
    await kube.patch(RESOURCES.Workspace, ns.name, "taken", { spec: { cloud: { adopt: true } } });
    const adopted = await ready("taken", "CloudSynced");
    expect(adopted.status?.cloud).toMatchObject({ workspaceId: existing.id, adopted: true });
  });

  it("says so when the token is refused, and does not crash", async () => {
    await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "bad-token", namespace: ns.name }, stringData: { token: "ktf-wrong-token-0000" } });
    await kube.create(cloudWorkspace("wrong", { token: { secretKeyRef: { name: "bad-token", key: "token" } } }));
    const ws = await ready("wrong", "CloudCredentials");
    const message = ws.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
    expect(message).toMatch(/the token for .* was refused/);
    expect(message).not.toContain("ktf-wrong-token-0000");
  });

  it("starts no pod for a run of a cloud workspace, and fails one without a configuration, saying why", async () => {
    await kube.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name: "net-plan-1", namespace: ns.name }, spec: { workspace: "net", command: "plan", args: [] } });
    const failed = await waitFor(async () => {
      const r = (await kube.get(RESOURCES.Run, ns.name, "net-plan-1")) as { status?: { phase?: string; conditions?: { type: string; message: string }[] } } | undefined;
      return r?.status?.phase === "Failed" ? r : undefined;
    }, 60_000, "the run failed");
    expect(JSON.stringify(failed.status?.conditions)).toMatch(/plan needs a configuration: run it from the configuration's directory/);
    expect(await kubectl(["-n", ns.name, "get", "pods", "-o", "name"])).toBe("");
  });
});
