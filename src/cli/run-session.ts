import { randomBytes } from "node:crypto";
import type { EngineCommand } from "../api/commands.js";
import { isFinished, type Run } from "../api/run.js";
import { createRunWithArchive } from "../runs/create-run.js";
import type { PackedConfiguration } from "../archive/pack.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { followPodLog, waitForContainer } from "../kube/log-follower.js";
import { attachInput } from "../kube/attach.js";
import { fit } from "../api/names.js";
import { REASON } from "../api/conditions.js";
import { RunLogRenderer } from "./output/run-log.js";
import { loadRunKey, saveRunKey } from "./sealing-keys.js";
import { newSealingKeys } from "../seal/sealed-log.js";
import { encodeTerminalSize } from "../run-log/terminal-size.js";
import { note, terminalSize, type Terminal } from "./output/terminal.js";
import { ask } from "./output/prompt.js";
import { watchRun } from "./watch-run.js";
import { followCloudLog } from "./cloud-log.js";

export interface RunRequest {
  namespace: string;
  workspace: string;
  command: EngineCommand;
  args: string[];
  configuration?: PackedConfiguration;
  planRun?: string;
  savePlan?: boolean;
  interactive?: boolean;
  /** Seal the run's output to a key of this CLI's (it carries the state's values). */
  sealed?: boolean;
  /** Where the CLI keeps the private key (HOME, XDG_STATE_HOME). */
  env?: NodeJS.ProcessEnv;
  /** Who the run says it was created by (admission checks it). */
  annotations?: Record<string, string>;
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** A run name that says what it is: <workspace>-<command>-<40 random bits>. */
export function runName(workspace: string, command: string): string {
  const suffix = [...randomBytes(8)].map((b) => BASE32[b % 32]).join("");
  return `${fit(`${workspace}-${command}`, 240)}-${suffix}`;
}

/** Creates the Run and uploads its configuration (see createRunWithArchive). */
export async function createRun(client: KubeClient, req: RunRequest): Promise<Run> {
  const name = runName(req.workspace, req.command);
  const keys = req.sealed ? newSealingKeys() : undefined;
  // Kept before the run exists: its first output line may come before createRun returns.
  if (keys) await saveRunKey(req.env ?? process.env, req.namespace, name, keys.privateKey);
  return createRunWithArchive(client, {
    namespace: req.namespace,
    name,
    ...(req.annotations ? { annotations: req.annotations } : {}),
    spec: {
      workspace: req.workspace,
      command: req.command,
      args: req.args,
      ...(req.planRun ? { planRun: req.planRun } : {}),
      savePlan: Boolean(req.savePlan),
      interactive: Boolean(req.interactive),
      ...(keys ? { outputKey: keys.publicKey } : {}),
    },
    ...(req.configuration ? { configuration: req.configuration } : {}),
  });
}

export interface FollowOptions {
  /** Ctrl-C asks whether to cancel; `detach` leaves the run going. */
  interruptible: boolean;
  signal?: AbortSignal;
  /** Receives the dependency lock file the run reports (after init, providers lock). */
  onLockFile?: (text: string) => void;
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
  if (onInterrupt) for (const signal of STOP_SIGNALS) process.on(signal, onInterrupt);
  try {
    const current = await waitForPod(client, t, ns, name, stop.signal);
    if (current.status?.cloud && !stop.signal.aborted) await followCloudLog(client, t, current, stop.signal);
    else if (current.status?.podName && !stop.signal.aborted) {
      const renderer = new RunLogRenderer(t, name, await loadRunKey(t.env, ns, name), options.onLockFile);
      await followPodLog(
        client,
        { namespace: ns, pod: current.status.podName, container: "runner" },
        (line) => renderer.line(line),
        stop.signal,
        (why) => startProblem(t, name, why),
      );
    }
    if (detached) return { kind: "detached", run: current };
    return { kind: "finished", run: await waitForEnd(client, ns, name, stop.signal) };
  } finally {
    if (onInterrupt) for (const signal of STOP_SIGNALS) process.off(signal, onInterrupt);
  }
}

const SILENT_WAIT_MS = 5000;

/** Until the run has a pod or TFC has a log for it (or it ended without), saying why it waits when that changes. */
function waitForPod(client: KubeClient, t: Terminal, ns: string, name: string, signal: AbortSignal): Promise<Run> {
  let said = "";
  const since = Date.now();
  const timer = setTimeout(() => note(t, `ktf: run ${name}: waiting for the operator to pick the run up`), SILENT_WAIT_MS);
  const describe = (run: Run) => {
    const queued = run.status?.conditions?.find((c) => c.type === "Queued" && c.status === "True");
    // A run that starts at once needs no comment; one that waits says for what.
    const silent = queued?.reason === "ArchiveUploaded" || (queued?.reason === "WaitingForArchive" && Date.now() - since <= SILENT_WAIT_MS);
    if (queued && queued.message !== said && !silent) {
      clearTimeout(timer);
      note(t, `ktf: run ${name}: ${queued.message}`);
      said = queued.message;
    }
  };
  const cloudLog = (run: Run) => Boolean(run.status?.cloud?.plan?.logUrl ?? run.status?.cloud?.apply?.logUrl);
  return watchRun(client, ns, name, (run) => Boolean(run.status?.podName) || cloudLog(run) || isFinished(run), signal, describe).finally(() => clearTimeout(timer));
}

function waitForEnd(client: KubeClient, ns: string, name: string, signal: AbortSignal): Promise<Run> {
  return watchRun(client, ns, name, isFinished, signal);
}

/**
 * `ktf console`: once the run's container runs, the terminal's keys go to it, and what the
 * engine shows comes back from the pod's log, sealed to this CLI; when the engine ends,
 * so does the session, and the run's end is returned.
 */
export async function attachRun(client: KubeClient, t: Terminal, run: Run): Promise<Run> {
  const ns = run.metadata.namespace ?? "";
  const name = run.metadata.name ?? "";
  const never = new AbortController().signal;
  const started = await waitForPod(client, t, ns, name, never);
  const pod = started.status?.podName;
  if (!pod) return waitForEnd(client, ns, name, never);
  const target = { namespace: ns, pod, container: "runner" };
  // The container must be running before there is anything to attach to.
  if (await waitForContainer(client, target, never, (why) => startProblem(t, name, why))) {
    const input = await attachInput(client, target, t.stdin);
    // The container has no tty to resize: the engine's terminal follows this one's size, sent on stdin.
    const sendSize = () => {
      const size = terminalSize(t);
      if (size) input.send(encodeTerminalSize(size));
    };
    sendSize();
    t.stdout.on("resize", sendSize);
    try {
      const renderer = new RunLogRenderer(t, name, await loadRunKey(t.env, ns, name));
      await followPodLog(client, target, (line) => renderer.line(line), never);
    } finally {
      t.stdout.off("resize", sendSize);
      input.close();
    }
  }
  return waitForEnd(client, ns, name, never);
}

/** Starting is silent; a pod that cannot start says why (a missing Secret, an image). */
function startProblem(t: Terminal, run: string, why: string): void {
  if (!/^(ContainerCreating|PodInitializing)/.test(why)) note(t, `ktf: run ${run}: ${why}`);
}

/** Ctrl-C, and SIGTERM as CI systems send it when a job is canceled: terraform stops cleanly on both. */
const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

function interruptHandler(client: KubeClient, t: Terminal, run: Run, detach: () => void): (signal: NodeJS.Signals) => void {
  let asking = false;
  const cancel = async () => {
    note(t, `\nktf: canceling run ${run.metadata.name}; the engine stops cleanly and releases the state lock`);
    await client.patch(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { spec: { cancel: true } });
  };
  return (signal: NodeJS.Signals) => {
    if (signal === "SIGTERM" || asking || !t.stdin.isTTY) {
      // Told to stop (a CI job canceled), a second Ctrl-C, or no terminal to ask on: cancel.
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

/** How a run failed in ktf's own words, beyond the engine's exit (its output said that already). */
const KTF_FAILURES: ReadonlySet<string> = new Set([REASON.StateNotSaved, REASON.PlanNotKept]);

/** The engine's exit code, or 1 with the reason when the run ended without one. */
export function exitCodeOf(t: Terminal, run: Run): number {
  const status = run.status;
  const complete = status?.conditions?.find((c) => c.type === "Complete");
  if (status?.exitCode !== undefined && status.phase !== "Canceled") {
    if (complete && KTF_FAILURES.has(complete.reason)) note(t, `ktf: run ${run.metadata.name} failed: ${complete.message}`);
    // A failure of ktf's after an engine that succeeded still fails the command.
    return status.exitCode === 0 && status.phase === "Failed" ? 1 : status.exitCode;
  }
  if (status?.phase !== "Succeeded") note(t, `ktf: run ${run.metadata.name} ${status?.phase?.toLowerCase() ?? "ended"}: ${complete?.message ?? ""}`);
  if (status?.phase === "Canceled") return status.exitCode ?? 130;
  return status?.phase === "Succeeded" ? 0 : 1;
}

export function announceRun(t: Terminal, run: Run): void {
  note(t, `ktf: run ${run.metadata.name} (workspace ${run.spec.workspace}, namespace ${run.metadata.namespace})`);
}
