import { describe, expect, it } from "vitest";
import { workspaceSchema, type Workspace } from "../api/workspace.js";
import { TfcClient } from "../cloud/tfc-client.js";
import { notificationTokenHash } from "../cloud/notifications.js";
import type { KubeClient } from "../kube/client.js";
import { fakeServer, json, noContent, type Handler } from "../../test/harness/fake-tfc.js";
import { projectId, syncNotifications, syncRunTriggers } from "./cloud-workspace-links.js";

function workspace(cloud: Record<string, unknown>, status: Record<string, unknown> = {}): Workspace {
  return workspaceSchema.parse({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Workspace",
    metadata: { name: "app", namespace: "team" },
    spec: { cloud: { organization: "org", ...cloud } },
    status: { cloud: { workspaceId: "ws-app", ...status } },
  });
}

function tfc(routes: Record<string, Handler>) {
  const server = fakeServer(routes);
  return { ...server, client: new TfcClient({ hostname: "tfc.example.com", token: "api-token", fetch: server.fetch }) };
}

const events: string[] = [];
const secrets = {
  client: { get: (_r: unknown, _ns: string, name: string) => Promise.resolve(name === "hooks" ? { metadata: { name }, data: { hmac: Buffer.from("hook-key").toString("base64") } } : undefined) } as unknown as KubeClient,
};
const o = { events: { normal: (_o: unknown, reason: string) => void events.push(reason), warning: () => {} }, secrets };

const wsDoc = (id: string, name: string) => ({ id, type: "workspaces", attributes: { name } });
const triggerDoc = (id: string, source: string, name: string) => ({
  id,
  type: "run-triggers",
  attributes: { "sourceable-name": name, "workspace-name": "team-app" },
  relationships: { sourceable: { data: { id: source, type: "workspaces" } }, workspace: { data: { id: "ws-app", type: "workspaces" } } },
});

describe("syncRunTriggers", () => {
  it("creates the missing inbound triggers (by name or ID) and removes those the spec does not list", async () => {
    const t = tfc({
      "GET /api/v2/organizations/org/workspaces/network": () => json({ data: wsDoc("ws-net", "network") }),
      "GET /api/v2/workspaces/ws-app/run-triggers": () => json({ data: [triggerDoc("rt-old", "ws-old", "old"), triggerDoc("rt-dns", "ws-dns", "dns")] }),
      "POST /api/v2/workspaces/ws-app/run-triggers": () => json({ data: triggerDoc("rt-new", "ws-net", "network") }, 201),
      "DELETE /api/v2/run-triggers/rt-old": () => noContent(),
    });
    const sources = await syncRunTriggers(o, t.client, workspace({ runTriggers: [{ workspace: "network" }, { id: "ws-dns" }] }), "ws-app");
    expect(sources).toEqual(["ws-dns", "ws-net"]);
    const writes = t.calls.filter((c) => c.method !== "GET");
    expect(writes.map((c) => `${c.method} ${c.url.pathname}`)).toEqual(["POST /api/v2/workspaces/ws-app/run-triggers", "DELETE /api/v2/run-triggers/rt-old"]);
    expect(writes[0]?.body).toEqual({ data: { relationships: { sourceable: { data: { type: "workspaces", id: "ws-net" } } } } });
    expect(t.calls.find((c) => c.url.pathname.endsWith("/run-triggers") && c.method === "GET")?.url.searchParams.get("filter[run-trigger][type]")).toBe("inbound");
  });

  it("asks nothing of a server when no trigger is wanted or was set, and names the field when the server lacks the call", async () => {
    const none = tfc({});
    expect(await syncRunTriggers(o, none.client, workspace({}), "ws-app")).toBeUndefined();
    expect(none.calls).toEqual([]);
    const old = tfc({ "GET /api/v2/organizations/org/workspaces/network": () => json({ data: wsDoc("ws-net", "network") }) });
    const refused = syncRunTriggers(o, old.client, workspace({ runTriggers: [{ workspace: "network" }] }), "ws-app");
    await expect(refused).rejects.toMatchObject({ reason: "CloudUnsupported" });
    await expect(refused).rejects.toThrow(/^spec\.cloud\.runTriggers: this TFC\/TFE server does not serve run triggers \(GET .*run-triggers answered 404\)/);
  });

  it("refuses a source workspace that does not exist, naming the entry", async () => {
    const t = tfc({});
    await expect(syncRunTriggers(o, t.client, workspace({ runTriggers: [{ id: "ws-dns" }, { workspace: "nope" }] }), "ws-app")).rejects.toThrow(
      "spec.cloud.runTriggers[1].workspace: organization org has no workspace nope",
    );
  });
});

const notificationDoc = (id: string, attrs: Record<string, unknown>) => ({ id, type: "notification-configurations", attributes: attrs });

describe("syncNotifications", () => {
  const spec = { notifications: [{ name: "ci", type: "generic", url: "https://hooks.example.com/tfc", triggers: ["run:errored"], token: { secretKeyRef: { name: "hooks", key: "hmac" } } }] };

  it("creates one with its token write-only and keeps the token's HMAC, never the token", async () => {
    const t = tfc({
      "GET /api/v2/workspaces/ws-app/notification-configurations": () => json({ data: [notificationDoc("nc-stray", { name: "stray", "destination-type": "slack", enabled: true, url: "https://x" })] }),
      "POST /api/v2/workspaces/ws-app/notification-configurations": () => json({ data: notificationDoc("nc-1", { name: "ci", "destination-type": "generic" }) }, 201),
      "DELETE /api/v2/notification-configurations/nc-stray": () => noContent(),
    });
    const ws = workspace(spec);
    const hashes = await syncNotifications(o, t.client, ws, "ws-app", "api-token");
    const post = t.calls.find((c) => c.method === "POST");
    expect(post?.body).toMatchObject({ data: { type: "notification-configurations", attributes: { name: "ci", "destination-type": "generic", enabled: true, url: "https://hooks.example.com/tfc", token: "hook-key", triggers: ["run:errored"] } } });
    expect(t.calls.some((c) => c.method === "DELETE" && c.url.pathname.endsWith("/nc-stray"))).toBe(true);
    const hash = notificationTokenHash("api-token", { name: "ci", destinationType: "generic", enabled: true, triggers: [], token: "hook-key" });
    expect(hashes).toEqual({ ci: hash });
    expect(JSON.stringify(hashes)).not.toContain("hook-key");
  });

  it("changes nothing when TFC has what the spec says, and updates what was changed in TFC", async () => {
    const hash = notificationTokenHash("api-token", { name: "ci", destinationType: "generic", enabled: true, triggers: [], token: "hook-key" });
    const same = { name: "ci", "destination-type": "generic", enabled: true, url: "https://hooks.example.com/tfc", triggers: ["run:errored"] };
    const t = tfc({ "GET /api/v2/workspaces/ws-app/notification-configurations": () => json({ data: [notificationDoc("nc-1", same)] }) });
    await syncNotifications(o, t.client, workspace(spec, { notifications: { ci: hash } }), "ws-app", "api-token");
    expect(t.calls.filter((c) => c.method !== "GET")).toEqual([]);

    const edited = tfc({
      "GET /api/v2/workspaces/ws-app/notification-configurations": () => json({ data: [notificationDoc("nc-1", { ...same, enabled: false })] }),
      "PATCH /api/v2/notification-configurations/nc-1": () => json({ data: notificationDoc("nc-1", same) }),
    });
    await syncNotifications(o, edited.client, workspace(spec, { notifications: { ci: hash } }), "ws-app", "api-token");
    expect(edited.calls.filter((c) => c.method !== "GET").map((c) => c.method)).toEqual(["PATCH"]);
  });

  it("names the field when the server has no notification configurations", async () => {
    const t = tfc({});
    const refused = syncNotifications(o, t.client, workspace(spec), "ws-app", "api-token");
    await expect(refused).rejects.toMatchObject({ reason: "CloudUnsupported" });
    await expect(refused).rejects.toThrow(/^spec\.cloud\.notifications: /);
  });
});

describe("projectId", () => {
  it("finds spec.cloud.project by name, or says the organization has none of that name", async () => {
    const t = tfc({ "GET /api/v2/organizations/org/projects": (c) => json({ data: c.url.searchParams.get("filter[names]") === "infra" ? [{ id: "prj-9", type: "projects", attributes: { name: "infra" } }] : [] }) });
    expect(await projectId(t.client, workspace({ project: "infra" }))).toBe("prj-9");
    expect(await projectId(t.client, workspace({}))).toBeUndefined();
    await expect(projectId(t.client, workspace({ project: "web" }))).rejects.toThrow("spec.cloud.project: organization org has no project web");
  });
});
