import { describe, expect, it } from "vitest";
import { OperatorMetrics } from "../operator/runtime/metrics.js";
import { countingClient } from "./counting-client.js";
import { MemoryKubeClient } from "../../test/harness/memory-kube.js";
import { RESOURCES } from "./resources.js";

const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "team" } };

describe("countingClient", () => {
  it("counts each request by verb and resource in ktf_api_requests_total", async () => {
    const metrics = new OperatorMetrics();
    const inner = new MemoryKubeClient();
    const client = countingClient(inner, metrics);

    await client.create(pod);
    await client.get(RESOURCES.Pod, "team", "p");
    await client.get(RESOURCES.Pod, "team", "missing");
    await client.list(RESOURCES.Run, "team");
    await client.patchStatus(RESOURCES.Pod, "team", "p", { phase: "Running" });
    await client.watch(RESOURCES.Run, "team", {}, () => undefined, new AbortController().signal).catch(() => undefined);

    const counted = (await metrics.apiRequests.get()).values.map((v) => [`${v.labels.verb} ${v.labels.resource}`, v.value]);
    expect(Object.fromEntries(counted)).toEqual({ "create pods": 1, "get pods": 2, "list runs": 1, "patch pods/status": 1, "watch runs": 1 });
    // What it counts, it passes on.
    expect(inner.calls).toHaveLength(6);
    expect(await metrics.registry.metrics()).toContain('ktf_api_requests_total{verb="get",resource="pods"} 2');
  });
});
