import { describe, expect, it } from "vitest";
import { runSchema } from "../api/run.js";
import { workspaceSchema } from "../api/workspace.js";
import { TfcClient } from "../cloud/tfc-client.js";
import type { KubeClient } from "../kube/client.js";
import { fakeServer, json, noContent } from "../../test/harness/fake-tfc.js";
import { cloudRunStep } from "./cloud-run.js";

const ws = workspaceSchema.parse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "app", namespace: "team" }, spec: { cloud: { organization: "org" } }, status: { cloud: { workspaceId: "ws-1" } } });
const run = (name: string, spec: Record<string, unknown>, cloud?: Record<string, unknown>) =>
  runSchema.parse({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name, namespace: "team", uid: `uid-${name}` }, spec: { workspace: "app", ...spec }, ...(cloud ? { status: { phase: "Succeeded", cloud } } : {}) });
const planRun = run("app-plan", { command: "plan", savePlan: true }, { runId: "run-1", workspaceId: "ws-1", status: "planned" });
const tfcRun = (status: string, confirmable: boolean) => ({
  data: { id: "run-1", type: "runs", attributes: { status, actions: { "is-confirmable": confirmable } }, relationships: { apply: { data: { id: "apply-1", type: "applies" } } } },
});

describe("cloudRunStep: the apply of a saved plan", () => {
  it("confirms the plan's TFC run once, and follows its apply", async () => {
    let status = "planned";
    const server = fakeServer({
      "GET /api/v2/runs/run-1": () => json(tfcRun(status, status === "planned")),
      "POST /api/v2/runs/run-1/actions/apply": () => ((status = "applying"), noContent()),
      "GET /api/v2/applies/apply-1": () => json({ data: { id: "apply-1", type: "applies", attributes: { status: "running", "log-read-url": "/signed/x/runs/run-1/logs/apply" } } }),
    });
    const tfc = new TfcClient({ hostname: "tfc.example.com", token: "t", fetch: server.fetch });
    const step = await cloudRunStep({} as KubeClient, tfc, run("app-apply", { command: "apply", planRun: "app-plan" }), ws, planRun);
    expect(step).toMatchObject({ kind: "progress", phase: "Running", cloud: { runId: "run-1", confirmed: true, apply: { status: "running", logUrl: "https://tfc.example.com/signed/x/runs/run-1/logs/apply" } } });
    expect(server.calls.filter((c) => c.url.pathname.endsWith("/actions/apply"))).toHaveLength(1);
  });

  it("after a crash that lost `confirmed`, sees the TFC run confirmed and neither confirms again nor fails", async () => {
    const server = fakeServer({
      "GET /api/v2/runs/run-1": () => json(tfcRun("applying", false)),
      "GET /api/v2/applies/apply-1": () => json({ data: { id: "apply-1", type: "applies", attributes: { status: "running" } } }),
    });
    const tfc = new TfcClient({ hostname: "tfc.example.com", token: "t", fetch: server.fetch });
    const lost = run("app-apply", { command: "apply", planRun: "app-plan" }, { runId: "run-1", workspaceId: "ws-1", status: "planned" });
    const step = await cloudRunStep({} as KubeClient, tfc, { ...lost, status: { ...lost.status, phase: "Pending" } }, ws, planRun);
    expect(step).toMatchObject({ kind: "progress", phase: "Running", cloud: { confirmed: true } });
    expect(server.calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("fails when the saved plan can no longer be applied (discarded)", async () => {
    const server = fakeServer({ "GET /api/v2/runs/run-1": () => json(tfcRun("discarded", false)) });
    const tfc = new TfcClient({ hostname: "tfc.example.com", token: "t", fetch: server.fetch });
    const step = await cloudRunStep({} as KubeClient, tfc, run("app-apply", { command: "apply", planRun: "app-plan" }), ws, planRun);
    expect(step).toMatchObject({ kind: "finish", phase: "Failed", message: "the saved plan (TFC run run-1) is discarded: it can no longer be applied; plan again" });
  });
});
