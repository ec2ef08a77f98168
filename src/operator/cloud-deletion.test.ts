import { describe, expect, it } from "vitest";
import { workspaceSchema, type Workspace } from "../api/workspace.js";
import { TfcClient } from "../cloud/tfc-client.js";
import { fakeServer, json, noContent, type Handler } from "../../test/harness/fake-tfc.js";
import { cloudDeletionStep, needsCloudFinalizer } from "./cloud-deletion.js";

const NOW = new Date("2026-12-02T10:00:00Z");

function workspace(deletionPolicy: string, deletion?: Record<string, unknown>): Workspace {
  return workspaceSchema.parse({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Workspace",
    metadata: { name: "app", namespace: "team" },
    spec: { cloud: { organization: "org", deletionPolicy } },
    status: { cloud: { workspaceId: "ws-1", ...(deletion ? { deletion } : {}) } },
  });
}

const runDoc = (status: string) => ({ data: { id: "run-9", type: "runs", attributes: { status, "is-destroy": true } } });
const stateDoc = { data: { id: "sv-1", type: "state-versions", attributes: { serial: 3 } } };

function tfc(routes: Record<string, Handler>) {
  const server = fakeServer(routes);
  return { ...server, client: new TfcClient({ hostname: "tfc.example.com", token: "t", fetch: server.fetch }) };
}

describe("cloudDeletionStep", () => {
  it("adds the finalizer only for a policy that does something in TFC", () => {
    expect(needsCloudFinalizer(workspace("retain"))).toBe(false);
    for (const p of ["soft", "destroy", "force"]) expect(needsCloudFinalizer(workspace(p))).toBe(true);
  });

  it("force deletes the TFC workspace; one already gone is done too", async () => {
    const t = tfc({ "DELETE /api/v2/workspaces/ws-1": () => noContent() });
    expect(await cloudDeletionStep(t.client, workspace("force"), NOW)).toMatchObject({ kind: "done" });
    const gone = tfc({});
    expect(await cloudDeletionStep(gone.client, workspace("force"), NOW)).toMatchObject({ kind: "done", message: "TFC workspace ws-1 is gone" });
  });

  it("soft refused while resources are managed is a failure with backoff, not a hang", async () => {
    const t = tfc({ "POST /api/v2/workspaces/ws-1/actions/safe-delete": () => json({ errors: [{ title: "conflict" }] }, 409) });
    const step = await cloudDeletionStep(t.client, workspace("soft"), NOW);
    expect(step).toMatchObject({ kind: "failed", deletion: { attempts: 1, retryAt: "2026-12-02T10:00:30.000Z" }, requeueAfter: 30_000 });
    expect(step.message).toMatch(/its state still manages resources.*attempt 1.*ktf.dev\/cloud-let-go=true/);
    // Not tried again before its time; then the wait doubles.
    const early = await cloudDeletionStep(t.client, workspace("soft", { attempts: 1, retryAt: "2026-12-02T10:00:30.000Z" }), NOW);
    expect(early).toMatchObject({ kind: "failed", requeueAfter: 30_000 });
    expect(t.calls).toHaveLength(1);
    const later = await cloudDeletionStep(t.client, workspace("soft", { attempts: 1, retryAt: "2026-12-02T09:59:00.000Z" }), NOW);
    expect(later).toMatchObject({ kind: "failed", deletion: { attempts: 2 }, requeueAfter: 60_000 });
  });

  it("soft on a server without safe-delete says so while the workspace is there", async () => {
    const t = tfc({ "GET /api/v2/workspaces/ws-1": () => json({ data: { id: "ws-1", type: "workspaces", attributes: { name: "team-app" } } }) });
    const step = await cloudDeletionStep(t.client, workspace("soft"), NOW);
    expect(step.kind).toBe("failed");
    expect(step.message).toMatch(/tfc.example.com has no safe-delete for TFC workspace ws-1/);
  });

  it("destroy runs a destroy, follows it, and deletes once it applied", async () => {
    let status = "planning";
    const t = tfc({
      "GET /api/v2/workspaces/ws-1/current-state-version": () => json(stateDoc),
      "POST /api/v2/runs": () => json(runDoc("pending"), 201),
      "GET /api/v2/runs/run-9": () => json(runDoc(status)),
      "DELETE /api/v2/workspaces/ws-1": () => noContent(),
    });
    const started = await cloudDeletionStep(t.client, workspace("destroy"), NOW);
    expect(started).toMatchObject({ kind: "pending", deletion: { runId: "run-9", attempts: 0 } });
    const created = t.calls.find((c) => c.method === "POST")?.body as { data: { attributes: Record<string, unknown> } };
    expect(created.data.attributes).toMatchObject({ "is-destroy": true, "auto-apply": true, "plan-only": false });
    expect(await cloudDeletionStep(t.client, workspace("destroy", { runId: "run-9", attempts: 0 }), NOW)).toMatchObject({ kind: "pending" });
    status = "applied";
    expect(await cloudDeletionStep(t.client, workspace("destroy", { runId: "run-9", attempts: 0 }), NOW)).toMatchObject({ kind: "done" });
    expect(t.calls.some((c) => c.method === "DELETE")).toBe(true);
  });

  it("a destroy that fails is reported, the workspace kept, and a new destroy run made after the backoff", async () => {
    const t = tfc({
      "GET /api/v2/workspaces/ws-1/current-state-version": () => json(stateDoc),
      "GET /api/v2/runs/run-9": () => json(runDoc("errored")),
    });
    const step = await cloudDeletionStep(t.client, workspace("destroy", { runId: "run-9", attempts: 0 }), NOW);
    expect(step).toMatchObject({ kind: "failed", deletion: { attempts: 1 } });
    expect(step.kind === "failed" && step.deletion.runId).toBeFalsy();
    expect(step.message).toMatch(/the destroy run run-9 of TFC workspace ws-1 ended errored/);
    expect(t.calls.some((c) => c.method === "DELETE")).toBe(false);
  });
});
