import { describe, expect, it } from "vitest";
import { podStartProblem, type PodWithStatus } from "./pod-start.js";

const pod = (status: PodWithStatus["status"]): PodWithStatus => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, status });
const waiting = (name: string, reason: string, message?: string) => ({ name, state: { waiting: { reason, ...(message ? { message } : {}) } } });

describe("podStartProblem", () => {
  it("is nothing while the pod is on its way up", () => {
    expect(podStartProblem(pod({ initContainerStatuses: [waiting("state", "PodInitializing")], containerStatuses: [waiting("runner", "PodInitializing")] }))).toBeUndefined();
    expect(podStartProblem(pod({ containerStatuses: [waiting("runner", "ContainerCreating")] }))).toBeUndefined();
    expect(podStartProblem(pod(undefined))).toBeUndefined();
  });

  it("finds a sidecar whose image cannot be pulled behind a runner that only says PodInitializing", () => {
    const p = pod({ initContainerStatuses: [waiting("state", "ImagePullBackOff", 'Back-off pulling image "x"')], containerStatuses: [waiting("runner", "PodInitializing")] });
    expect(podStartProblem(p)).toEqual({ message: 'container state: ImagePullBackOff: Back-off pulling image "x"', stuck: true });
  });

  it("names a pod no node can run, which has no container statuses at all", () => {
    const p = pod({ conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available" }] });
    expect(podStartProblem(p)).toEqual({ message: "Unschedulable: 0/1 nodes are available", stuck: true });
  });

  it("reports, without giving up on, what may clear up by itself", () => {
    const gated = pod({ conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }] });
    expect(podStartProblem(gated)?.stuck).toBe(false);
    expect(podStartProblem(pod({ initContainerStatuses: [waiting("state", "CrashLoopBackOff")] }))?.stuck).toBe(false);
  });
});
