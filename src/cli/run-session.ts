import { randomBytes } from "node:crypto";
import { API_VERSION, LABELS, RUN } from "../api/group.js";
import type { EngineCommand } from "../api/commands.js";
import { runSchema, type ArchiveRef, type Run } from "../api/run.js";
import { chunkCount, chunkObjects } from "../archive/chunks.js";
import type { PackedConfiguration } from "../archive/pack.js";
import { KtfError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { followPodLog } from "../kube/log-follower.js";
import { isFinished } from "../operator/run-queue.js";
import { fit } from "../operator/builders/names.js";
import { renderLogLine } from "./output/run-log.js";
import { note, type Terminal } from "./output/terminal.js";
import { ask } from "./output/prompt.js";
import { sleep } from "../sleep.js";

export interface RunRequest {
  namespace: string;
  workspace: string;
  command: EngineCommand;
  args: string[];
  configuration?: PackedConfiguration;
  planRun?: string;
  savePlan?: boolean;
  interactive?: boolean;
  /** Who the run says it was created by (admission checks it). */
  annotations?: Record<string, string>;
}

/** A run name that says what it is: <workspace>-<command>-<random>. */
export function runName(workspace: string, command: string): string {
  return `${fit(`${workspace}-${command}`, 240)}-${randomBytes(3).toString("hex").slice(0, 5)}`;
}

/**
 * Creates the Run and uploads its configuration. The archive's ConfigMaps are owned by
 * the run, so if the upload fails the run is deleted and takes them along: nothing is
 * left half-created.
 */
export async function createRun(client: KubeClient, req: RunRequest): Promise<Run> {
  const name = runName(req.workspace, req.command);
  const archive: ArchiveRef | undefined = req.configuration
    ? {
        name: `${name}-cfg`,
        digest: req.configuration.digest,
        size: req.configuration.size,
        chunks: chunkCount(req.configuration.size),
        path: req.configuration.path,
      }
    : undefined;
  const created = await client.create({
    apiVersion: API_VERSION,
    kind: RUN.kind,
    metadata: {
      name,
      namespace: req.namespace,
      labels: { [LABELS.workspace]: req.workspace },
      ...(req.annotations ? { annotations: req.annotations } : {}),
    },
    spec: {
      workspace: req.workspace,
      command: req.command,
      args: req.args,
      ...(archive ? { archive } : {}),
      ...(req.planRun ? { planRun: req.planRun } : {}),
      savePlan: Boolean(req.savePlan),
      interactive: Boolean(req.interactive),
    },
  });
  const run = runSchema.parse(created);
  if (!archive || !req.configuration) return run;
  try {
    const owner = { apiVersion: API_VERSION, kind: RUN.kind, name, uid: run.metadata.uid ?? "" };
    const configMaps = chunkObjects("ConfigMap", {
      namespace: req.namespace,
      name: archive.name,
      bytes: req.configuration.bytes,
      owner,
      labels: { [LABELS.run]: name },
    });
    for (const cm of configMaps) await client.create(cm);
  } catch (err) {
    await client.delete(RESOURCES.Run, req.namespace, name).catch(() => undefined);
    throw err;
  }
  return run;
}

export interface FollowOptions {
  /** Ctrl-C asks whether to cancel; `detach` leaves the run going. */
  interruptible: boolean;
  signal?: AbortSignal;
}

export type FollowOutcome = { kind: "finished"; run: Run } | { kind: "detached"; run: Run };

/**
 * Streams a run's output from the engine's first line to its last and resolves when the
 * operator has recorded how it ended. While the run waits in the queue it says for what.
 */
export async function followRun(client: KubeClient, t: Terminal, run: Run, options: FollowOptions): Promise<FollowOutcome> {
  const ns = run.metadata.namespace ?? "";
  const name = run.metadata.name ?? "";
  const stop = new AbortController();
  options.signal?.addEventListener("abort", () => stop.abort());
  let detached = false;
  const onInterrupt = options.interruptible ? interruptHandler(client, t, run, () => ((detached = true), stop.abort())) : undefined;
  if (onInterrupt) process.on("SIGINT", onInterrupt);
  try {
    const current = await waitForPod(client, t, ns, name, stop.signal);
    if (current.status?.podName && !stop.signal.aborted) {
      await followPodLog(
        client,
        { namespace: ns, pod: current.status.podName, container: "runner" },
        (line) => renderLogLine(t, line),
        stop.signal,
      );
    }
    if (detached) return { kind: "detached", run: current };
    return { kind: "finished", run: await waitForEnd(client, ns, name, stop.signal) };
  } finally {
    if (onInterrupt) process.off("SIGINT", onInterrupt);
  }
}

const POLL_MS = 500;
const SILENT_WAIT_MS = 5000;

async function getRun(client: KubeClient, ns: string, name: string): Promise<Run> {
  const raw = await client.get(RESOURCES.Run, ns, name);
  if (!raw) throw new KtfError(`run ${name} was deleted`);
  return runSchema.parse(raw);
}

/** Polls until the run has a pod (or ended without one), saying why it waits when that changes. */
async function waitForPod(client: KubeClient, t: Terminal, ns: string, name: string, signal: AbortSignal): Promise<Run> {
  let said = "";
  const since = Date.now();
  for (;;) {
    const run = await getRun(client, ns, name);
    if (run.status?.podName || isFinished(run) || signal.aborted) return run;
    const queued = run.status?.conditions?.find((c) => c.type === "Queued" && c.status === "True");
    // A run that starts at once needs no comment; one that waits says for what.
    const why = queued?.message ?? (Date.now() - since > SILENT_WAIT_MS ? "waiting for the operator to pick the run up" : "");
    if (why && why !== said) note(t, `ktf: run ${name}: ${why}`);
    said = why || said;
    await sleep(POLL_MS, signal);
  }
}

async function waitForEnd(client: KubeClient, ns: string, name: string, signal: AbortSignal): Promise<Run> {
  for (;;) {
    const run = await getRun(client, ns, name);
    if (isFinished(run)) return run;
    if (signal.aborted) return run;
    await sleep(POLL_MS, signal);
  }
}

function interruptHandler(client: KubeClient, t: Terminal, run: Run, detach: () => void): () => void {
  let asking = false;
  const cancel = async () => {
    note(t, `\nktf: canceling run ${run.metadata.name}; the engine stops cleanly and releases the state lock`);
    await client.patch(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { spec: { cancel: true } });
  };
  return () => {
    if (asking || !t.stdin.isTTY) {
      // A second Ctrl-C, or no terminal to ask on: cancel.
      void cancel();
      return;
    }
    asking = true;
    void ask(t, `\nCancel run ${run.metadata.name}? [y]es cancels it, [n]o detaches and leaves it running: `).then(async (answer) => {
      asking = false;
      if (/^y(es)?$/i.test(answer)) return cancel();
      note(t, `ktf: detached; the run goes on. Follow it with: ktf runs logs ${run.metadata.name} -f`);
      detach();
    });
  };
}
