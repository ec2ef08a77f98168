import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceSchema, type Workspace } from "../../src/api/workspace.js";
import { variableHash } from "../../src/cloud/variables.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { otfNamespace, otfWorld } from "../harness/cloud.js";
import { CLOUD_VARIABLES_SECRET } from "../harness/cloud-variables.js";
import { kubectl, waitFor } from "../harness/cluster.js";
import { mayReadSecret, workspaceEditor } from "../harness/users.js";

const MOUNTED_VALUE = `mounted-${randomBytes(6).toString("hex")}`;
const HOOK_KEY = `hook-${randomBytes(6).toString("hex")}`;

/**
 * What a cloud workspace takes from beyond its namespace's objects (the operator's mounted
 * variables), what it ties to in TFC (projects, run triggers, notifications, which OTF
 * v0.1.0 does not serve: the condition says so), and who may name a Secret in it.
 */
describe("a cloud workspace's values and links (OTF)", () => {
  const world = otfWorld("ktf-links");
  const { tfc, kube, h } = world;
  let ns: Awaited<ReturnType<typeof otfNamespace>>;

  const cloudWorkspace = (name: string, cloud: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) => ({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: ns.name },
    spec: { cloud: world.cloud(cloud), ...spec },
  });
  const read = async (name: string): Promise<Workspace> => workspaceSchema.parse(await kube.get(RESOURCES.Workspace, ns.name, name));
  const readyCondition = (name: string, reason: string) =>
    waitFor(async () => {
      const ws = await read(name);
      const c = ws.status?.conditions?.find((x) => x.type === "Ready");
      return c?.reason === reason && c.observedGeneration === ws.metadata.generation ? c : undefined;
    }, 120_000, `workspace ${name} Ready with ${reason}`);

  beforeAll(async () => {
    ns = await otfNamespace(world, "links");
    // This file's key of the installation's mounted variables; other files own theirs.
    await kube.apply(
      { apiVersion: "v1", kind: "Secret", metadata: { name: CLOUD_VARIABLES_SECRET, namespace: "ktf-system" }, data: { [`${ns.name}.db_password`]: Buffer.from(MOUNTED_VALUE).toString("base64") } },
      { fieldManager: `e2e-${ns.name}` },
    );
  });
  afterAll(async () => {
    await kubectl(["-n", "ktf-system", "patch", "secret", CLOUD_VARIABLES_SECRET, "--type=json", "-p", JSON.stringify([{ op: "remove", path: `/data/${ns.name}.db_password` }])]).catch(() => "");
    kube.close();
    await ns.remove();
  });

  it("pushes a mounted variable write-only: the operator read the file of its namespace, and the value is nowhere in the cluster", async () => {
    await kube.create(cloudWorkspace("mounted", {}, { variables: [{ name: "db_password", valueFrom: { mounted: { key: "db_password" } } }] }));
    // The kubelet refreshes a mounted Secret within about a minute.
    await readyCondition("mounted", "CloudSynced");
    const ws = await read("mounted");
    const remote = (await tfc.variables.list(ws.status?.cloud?.workspaceId ?? "")).find((v) => v.key === "db_password");
    expect(remote).toMatchObject({ category: "terraform", sensitive: true });
    expect(remote?.value ?? "").toBe("");
    // What status keeps is the HMAC of exactly the file's content.
    const expected = variableHash(h.otf.OTF_TOKEN ?? "", { key: "db_password", category: "terraform", value: MOUNTED_VALUE, hcl: false, sensitive: true });
    expect(ws.status?.cloud?.variables?.["terraform:db_password"]).toBe(expected);
    const seen = await kubectl(["-n", ns.name, "get", "workspaces.ktf.dev,events", "-o", "json"]);
    expect(seen).not.toContain(MOUNTED_VALUE);
    expect(await kubectl(["-n", "ktf-system", "logs", "deploy/ktf-operator", "--tail=-1"])).not.toContain(MOUNTED_VALUE);
  });

  it("gives a namespace only its own mounted keys, and says which file it looked for", async () => {
    await kube.create(cloudWorkspace("other", {}, { variables: [{ name: "db_password", valueFrom: { mounted: { key: "not-mine" } } }] }));
    const c = await readyCondition("other", "CloudSyncFailed");
    expect(c.message).toBe(`spec.variables[0].valueFrom.mounted: the installation's mounted variables have no key ${ns.name}.not-mine (<namespace>.<key>)`);
  });

  it("keeps notifications as the spec says, the token write-only; says which field the server cannot serve (OTF v0.1.0: run triggers, projects)", async () => {
    await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "hooks", namespace: ns.name }, stringData: { hmac: HOOK_KEY } });
    const notifications = [
      { name: "ci", type: "generic", url: "https://hooks.example.com/tfc", triggers: ["run:errored"], token: { secretKeyRef: { name: "hooks", key: "hmac" } } },
      { name: "ops", type: "slack", url: "https://hooks.slack.example.com/x", triggers: ["run:needs_attention", "run:completed"] },
    ];
    await kube.create(cloudWorkspace("notified", { notifications }));
    await readyCondition("notified", "CloudSynced");
    const wsId = (await read("notified")).status?.cloud?.workspaceId ?? "";
    const listed = async () => Object.fromEntries((await tfc.notifications.list(wsId)).map((n) => [n.name, n]));
    const made = await listed();
    expect(made.ci).toMatchObject({ destinationType: "generic", enabled: true, url: "https://hooks.example.com/tfc", triggers: ["run:errored"] });
    expect(made.ops).toMatchObject({ destinationType: "slack", triggers: ["run:needs_attention", "run:completed"] });
    expect(JSON.stringify(await read("notified"))).not.toContain(HOOK_KEY);
    // Changed in TFC: put back at the next sync.
    await tfc.notifications.update(made.ops?.id ?? "", { name: "ops", destinationType: "slack", enabled: false, url: "https://evil.example.com/", triggers: [] });
    await kubectl(["-n", ns.name, "annotate", "--overwrite", "workspace", "notified", `ktf.dev/poke=${Date.now()}`]);
    await waitFor(async () => ((await listed()).ops?.url === "https://hooks.slack.example.com/x" ? true : undefined), 60_000, "the notification put back");
    expect((await listed()).ops).toMatchObject({ enabled: true, triggers: ["run:needs_attention", "run:completed"] });
    // Taken out of the spec: removed from TFC.
    await kube.patch(RESOURCES.Workspace, ns.name, "notified", { spec: { cloud: { notifications: [notifications[0]] } } });
    await waitFor(async () => (Object.keys(await listed()).join(",") === "ci" ? true : undefined), 60_000, "the notification removed");

    await kube.create(cloudWorkspace("upstream"));
    await kube.create(cloudWorkspace("triggered", { runTriggers: [{ workspace: `${ns.name}-upstream` }] }));
    await kube.create(cloudWorkspace("projected", { project: "infra" }));
    await readyCondition("upstream", "CloudSynced");
    const triggered = await readyCondition("triggered", "CloudUnsupported");
    expect(triggered.message).toMatch(/^spec\.cloud\.runTriggers: this TFC\/TFE server does not serve run triggers \(GET \/workspaces\/ws-[^/]+\/run-triggers answered 404\)$/);
    expect((await readyCondition("projected", "CloudUnsupported")).message).toMatch(/^spec\.cloud\.project: this TFC\/TFE server does not serve projects/);
    // Taking the field out is the way back.
    await kube.patch(RESOURCES.Workspace, ns.name, "triggered", [{ op: "remove", path: "/spec/cloud/runTriggers" }], "json");
    await readyCondition("triggered", "CloudSynced");
  });

  it("refuses a Workspace naming a Secret its user may not read, and lets one who may", async () => {
    await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: ns.name }, stringData: { password: "p" } });
    const asWendy = await workspaceEditor(ns.name, "wendy-links");
    try {
      const naming = (name: string, secret: string) => ({
        apiVersion: "ktf.dev/v1alpha1",
        kind: "Workspace",
        metadata: { name, namespace: ns.name },
        spec: { variables: [{ name: "pw", valueFrom: { secretKeyRef: { name: secret, key: "password" } } }] },
      });
      await expect(asWendy.create(naming("leak", "db"))).rejects.toThrow(
        `user wendy-links may not name in workspace leak a Secret it may not read (it names db): the value of a named Secret reaches the runs of the workspace (or TFC), which needs the RBAC verb "get" on that Secret in namespace ${ns.name}`,
      );
      // Nor slipped into a cloud workspace's token or an existing workspace by an update.
      await expect(asWendy.create(cloudWorkspace("leak-token", { token: { secretKeyRef: { name: "db", key: "password" } } }))).rejects.toThrow(/a Secret it may not read \(it names db\)/);
      await kube.create(naming("theirs", "db"));
      await expect(asWendy.patch(RESOURCES.Workspace, ns.name, "theirs", { spec: { env: [{ name: "TF_VAR_x", valueFrom: { secretKeyRef: { name: "tfc-token", key: "token" } } }] } })).rejects.toThrow(/a Secret it may not read \(it names tfc-token\)/);
      // A Secret already named stays: she may change the rest of that workspace.
      await asWendy.patch(RESOURCES.Workspace, ns.name, "theirs", { spec: { workingDir: "infra" } });
      await mayReadSecret(ns.name, "wendy-links", "db");
      await waitFor(async () => (await asWendy.create(naming("allowed", "db")).then(() => true, () => false)) || undefined, 30_000, "the Workspace admitted once she may read db");
    } finally {
      asWendy.close();
    }
  });
});
