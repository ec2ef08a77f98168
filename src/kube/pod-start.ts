import type { KubeObject } from "./client.js";

export interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: {
    running?: object;
    waiting?: { reason?: string; message?: string };
    terminated?: { exitCode: number; message?: string; reason?: string; finishedAt?: string };
  };
}

export interface PodWithStatus extends KubeObject {
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

/** Waiting reasons that do not clear up by themselves: waiting longer only wastes the start timeout. */
const STUCK_REASONS = new Set(["CreateContainerConfigError", "CreateContainerError", "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"]);
/** The normal states of a pod on its way up. */
const STARTING_REASONS = new Set(["ContainerCreating", "PodInitializing"]);

export interface StartProblem {
  /** What is wrong, for people: the container it concerns and the kubelet's or scheduler's own words. */
  message: string;
  /** Whether the pod will not start unless something outside it changes (then the start timeout applies). */
  stuck: boolean;
}

/**
 * Why a pod that has not started yet is not starting. Every container counts: an init
 * container (a sidecar) whose image cannot be pulled leaves the main one PodInitializing
 * forever, and a pod that cannot be scheduled has no container statuses at all.
 */
export function podStartProblem(pod: PodWithStatus): StartProblem | undefined {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled) return { message: `${unscheduled.reason ?? "Unschedulable"}: ${unscheduled.message ?? "no node can run the pod"}`, stuck: unscheduled.reason === "Unschedulable" };
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const c of statuses) {
    const waiting = c.state?.waiting;
    if (!waiting?.reason || STARTING_REASONS.has(waiting.reason)) continue;
    return { message: `container ${c.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`, stuck: STUCK_REASONS.has(waiting.reason) };
  }
  return undefined;
}
