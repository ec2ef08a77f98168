import { ApiError, KtfError, errorMessage } from "../errors.js";
import type { KubeClient } from "./client.js";
import { JsonLineSplitter } from "./json-lines.js";
import { LogCursor } from "./log-cursor.js";
import { podStartProblem, type ContainerStatus, type PodWithStatus } from "./pod-start.js";
import { RESOURCES } from "./resources.js";
import { sleep } from "../sleep.js";

export interface LogTarget {
  namespace: string;
  pod: string;
  container: string;
  /** Keep reading until the container ends (default); false reads what is there once. */
  follow?: boolean;
}

type ContainerState = NonNullable<ContainerStatus["state"]>;

const POLL_MS = 200;
/** Consecutive failed reads (about half a minute) before giving up. */
const MAX_FAILURES = 10;

async function containerState(client: KubeClient, t: LogTarget): Promise<(ContainerState & { pod: PodWithStatus }) | "gone"> {
  const pod = await client.get<PodWithStatus>(RESOURCES.Pod, t.namespace, t.pod);
  if (!pod) return "gone";
  return { ...pod.status?.containerStatuses?.find((c) => c.name === t.container)?.state, pod };
}


/**
 * Waits until the container has started (or already ended), telling `onWaiting` why it
 * waits whenever that changes (ContainerCreating, CreateContainerConfigError: ...).
 * Returns false when the pod is gone.
 */
export async function waitForContainer(client: KubeClient, target: LogTarget, signal: AbortSignal, onWaiting?: (reason: string) => void): Promise<boolean> {
  const said = new Set<string>();
  for (;;) {
    const state = await containerState(client, target);
    if (state === "gone") return false;
    if (state.running || state.terminated || signal.aborted) return true;
    // The container itself may only say PodInitializing: the pod knows why (a sidecar's image, no node).
    const why = podStartProblem(state.pod)?.message ?? state.waiting?.reason ?? "ContainerCreating";
    // Pulls alternate ErrImagePull and ImagePullBackOff: each is said once.
    if (!said.has(why)) onWaiting?.(why);
    said.add(why);
    await sleep(POLL_MS, signal);
  }
}

/**
 * Streams a container's log line by line, from its first line to its last. It waits for
 * the container to start, and when the connection drops while the container still runs
 * it reconnects from the last line it delivered: nothing is lost and nothing repeated.
 */
export async function followPodLog(
  client: KubeClient,
  target: LogTarget,
  onLine: (text: string) => void,
  signal: AbortSignal,
  onWaiting?: (reason: string) => void,
): Promise<void> {
  const follow = target.follow ?? true;
  const cursor = new LogCursor();
  let failures = 0;
  for (;;) {
    if (signal.aborted) return;
    if (follow && !(await waitForContainer(client, target, signal, onWaiting))) return;
    const state = await containerState(client, target);
    if (state === "gone" || (!state.running && !state.terminated)) return;
    const ended = state.terminated !== undefined;
    try {
      await readOnce(client, target, cursor, onLine, signal, follow && !ended);
      failures = 0;
    } catch (err) {
      // The pod went away under us: what was read is all there is.
      if (err instanceof ApiError && err.isNotFound) return;
      if (signal.aborted) return;
      if (++failures >= MAX_FAILURES) throw new KtfError(`cannot read the log of pod ${target.namespace}/${target.pod}: ${errorMessage(err)}`);
      await sleep(POLL_MS * failures, signal);
      continue;
    }
    // A read of a terminated container (or a one-off read) has everything; a followed
    // read ended because the container did, or because the connection dropped.
    if (ended || !follow) return;
  }
}

async function readOnce(client: KubeClient, t: LogTarget, cursor: LogCursor, onLine: (text: string) => void, signal: AbortSignal, follow: boolean): Promise<void> {
  cursor.restart();
  const since = cursor.sinceTime();
  const stream = await client.logs(t.namespace, t.pod, { container: t.container, follow, timestamps: true, ...(since ? { sinceTime: since } : {}) }, signal);
  const lines = new JsonLineSplitter();
  const deliver = (raw: string) => {
    const { deliver, text } = cursor.accept(raw);
    if (deliver) onLine(text);
  };
  try {
    for await (const chunk of stream) for (const raw of lines.push(chunk)) deliver(raw);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  const last = lines.end();
  // A cut-off last line is only whole once the container has ended; a followed read is
  // re-read from the cursor afterwards and delivers it then.
  if (last !== undefined && !follow) deliver(last);
}
