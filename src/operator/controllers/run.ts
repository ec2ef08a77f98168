import { CONDITION, REASON } from "../../api/conditions.js";
import { FINISHED_PHASES, runSchema, type Run, type RunPhase, type RunStatus } from "../../api/run.js";
import { CLI_CONFIG_CA_KEY, CLI_CONFIG_KEY, workspaceSchema, type Workspace } from "../../api/workspace.js";
import { formatIssues } from "../../api/validate.js";
import { ANNOTATIONS, LABELS } from "../../api/group.js";
import { ApiError, isApiError } from "../../errors.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { cachedElseLive, type CachedReader } from "../../kube/cached-reader.js";
import { RESOURCES } from "../../kube/resources.js";
import { podStartProblem, type PodWithStatus } from "../../kube/pod-start.js";
import type { Logger } from "../../log.js";
import { runnerResultSchema } from "../../runner/contract.js";
import { parseStateReport } from "../../state/state-report.js";
import { runOutcome, type RunOutcome } from "../run-outcome.js";
import type { Backups } from "../../backup/backups.js";
import { privilegeDenial } from "../run-privilege.js";
import { identityRefusal } from "../run-identity.js";
import { stateInputs } from "../run-state-inputs.js";
import { checkArchive } from "../run-archive.js";
import { releaseLockOfRun } from "../../state/state-lock.js";
import { podForRun, type CliConfigRef } from "../builders/run-pod.js";
import { consoleAttachAccess } from "../builders/console-access.js";
import { labelValue, names } from "../../api/names.js";
import { ownerReference, isOwnedBy } from "../../kube/owner.js";
import { needsWorkspace, runQueue, uploading } from "../run-queue.js";
import { claimWorkspace } from "../workspace-claim.js";
import { liveRuns, runsOfWorkspace, type RunLister } from "../workspace-runs.js";
import { setCondition, writeStatus } from "../status.js";
import type { OperatorMetrics } from "../runtime/metrics.js";
import type { EventSink, ObjectKey, ReconcileResult } from "./types.js";
import { cloudClient, cloudSyncOptions, type CloudSyncOptions } from "../cloud-workspace.js";
import { cloudRunStep, type CloudRunStep } from "../cloud-run.js";
import { CloudApiError, CloudSyncError, StaleCacheError, errorMessage } from "../../errors.js";

export interface RunControllerOptions {
  client: KubeClient;
  /**
   * Where Runs, their Pods and Workspaces are read (the informers' caches), so that a
   * reconcile that changes nothing costs no request; live from the API when unset.
   */
  cache?: CachedReader;
  /** Where the runs of a namespace are read (the informers' cache); live from the API when unset. */
  runs?: RunLister;
  events: EventSink;
  log: Logger;
  now: () => Date;
  /** The image run pods use unless their workspace names another. */
  runnerImage: string;
  /** How long a run waits for its configuration archive to be uploaded. */
  archiveTimeoutMs: number;
  /** How long a run's pod may fail to start (missing Secret, image) before the run fails. */
  startTimeoutMs: number;
  metrics?: OperatorMetrics;
  /** The backup store `ktf state restore` fetches from, when the installation has one. */
  backups?: Backups;
  /** The audiences the API server accepts: no run gets a token for one of them. */
  apiAudiences: readonly string[];
  /** The CLI configuration Secret a workspace that names none uses, where its namespace has it. */
  defaultCliConfigSecret?: string;
  /** How runs of workspaces with spec.cloud reach TFC. */
  cloud?: Omit<CloudSyncOptions, "client" | "events">;
}

const POLL_MS = 2000;
/** Holds a deleted Run until its pod is gone and the lock it may have left is released. */
const RUN_FINALIZER = "ktf.dev/release-state-lock";
/** How long after the engine's container ends the state sidecar has to hand in its report. */
const REPORT_WAIT_MS = 30_000;
/** API answers that refuse a pod (a quota, an admission policy or webhook): worth retrying until the start timeout. */
const POD_REFUSALS = new Set([400, 403, 422]);
/** How often a TFC run is looked at while it goes on: TFC tells nobody when it changes. */
const CLOUD_POLL_MS = 2000;
/** After TFC could not be reached or answered 5xx: try again, the run goes on there. */
const CLOUD_RETRY_MS = 10_000;

/**
 * Moves a Run through Queued -> Pending -> Running -> Succeeded | Failed | Canceled. Each
 * call reads the run, its workspace and its pod as they are now and takes one step:
 * the pod has the run's name, so a reconcile that crashed halfway finds and adopts it,
 * and a run whose pod vanished after it started is failed, never started twice.
 *
 * With a cache, what is read is the cached copy, and the API is asked only where a copy
 * behind it would do harm: before a run is started (from the live run and workspace) or
 * adopted, and before an absence in the cache ends a run. Status writes are conditional on the copy's
 * resourceVersion, so a stale copy's write is refused (409) and the run looked at again.
 */
export class RunController {
  constructor(private readonly o: RunControllerOptions) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const raw = await cachedElseLive<KubeObject>(this.o.cache, this.o.client, RESOURCES.Run, key.namespace, key.name);
    if (!raw) return {};
    if (raw.metadata.deletionTimestamp) return this.finalize(raw);
    const parsed = runSchema.safeParse(raw);
    if (!parsed.success) {
      await this.finish(raw as unknown as Run, "Failed", REASON.InvalidSpec, formatIssues(parsed.error.issues).join("; "));
      return {};
    }
    const run = parsed.data;
    if (run.status?.phase && FINISHED_PHASES.has(run.status.phase)) {
      // A saved plan in TFC holds its queue until confirmed or discarded: canceling it discards it.
      if (run.status.cloud && run.spec.cancel && run.spec.savePlan) await this.discardCloudPlan(run);
      return {};
    }

    const ws = await this.workspaceOf(run, "cache");
    if (typeof ws === "string") {
      await this.finish(run, "Failed", ws === "missing" ? REASON.WorkspaceNotFound : REASON.InvalidSpec, ws === "missing" ? `workspace ${run.spec.workspace} does not exist in namespace ${key.namespace}` : ws);
      return {};
    }
    await this.adopt(run, ws);
    // Its state and engine are TFC's: the run is a TFC run, no pod.
    if (ws.spec.cloud) return this.reconcileCloud(run, ws);

    // A run that had a pod, or is canceled, is ended by the pod's absence: confirmed live.
    const pod = await this.podOf(run, Boolean(run.status?.podName || run.spec.cancel));
    if (pod) return this.follow(run, pod);
    if (run.spec.cancel) {
      // A run whose pod already ended (or was deleted) may have left the lock behind.
      if (run.status?.podName) await this.releaseLeftLock(run);
      await this.finish(run, "Canceled", REASON.Canceled, run.status?.podName ? `canceled; its pod ${run.status.podName} was gone` : "canceled before it started");
      return {};
    }
    if (run.status?.podName) {
      await this.releaseLeftLock(run);
      await this.finish(run, "Failed", REASON.PodLost, `pod ${run.status.podName} disappeared before it finished; the run is not restarted`);
      return {};
    }
    return this.startWhenReady(run, ws);
  }

  /**
   * The run's workspace, or why there is none to run in ("missing", or what is wrong with it).
   * From the cache when it has a valid one; what would fail the run is read live.
   */
  private async workspaceOf(run: Run, from: "cache" | "live"): Promise<Workspace | string> {
    const cached = from === "cache" ? this.o.cache?.get(RESOURCES.Workspace, run.metadata.namespace, run.spec.workspace) : undefined;
    const valid = cached && workspaceSchema.safeParse(cached);
    if (valid?.success) return valid.data;
    const raw = await this.o.client.get(RESOURCES.Workspace, run.metadata.namespace, run.spec.workspace);
    if (!raw) return "missing";
    const parsed = workspaceSchema.safeParse(raw);
    if (!parsed.success) return `workspace ${run.spec.workspace}: ${formatIssues(parsed.error.issues).join("; ")}`;
    return parsed.data;
  }

  /**
   * The workspace owns its runs (deleting it deletes them) and labels them for listing. The
   * owner is written from a live read: the uid of a cached copy of a workspace deleted and
   * made again would name an owner that is gone, and the garbage collector would delete the
   * run.
   */
  private async adopt(run: Run, cached: Workspace): Promise<void> {
    const label = labelValue(cached.metadata.name ?? "");
    if (isOwnedBy(run, cached) && run.metadata.labels?.[LABELS.workspace] === label) return;
    const ws = this.o.cache ? await this.workspaceOf(run, "live") : cached;
    if (typeof ws === "string" || ws.metadata.uid !== cached.metadata.uid) throw new StaleCacheError(`the cached workspace ${run.spec.workspace} is not the one in the API`);
    const owners = (run.metadata.ownerReferences ?? []).filter((r) => r.uid !== ws.metadata.uid);
    const patched = await this.o.client.patch<KubeObject>(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", {
      metadata: {
        labels: { [LABELS.workspace]: label },
        ownerReferences: [...owners, ownerReference(ws)],
      },
    });
    wrote(run, patched);
  }

  /**
   * The run's own pod, from the cache. A cache without it may be behind the API (the pod was
   * created a moment ago): with `confirmAbsence`, when the answer would end the run, the API
   * is asked. Without, the run is about to be started, and creating its pod copes with one
   * that exists.
   */
  private async podOf(run: Pick<KubeObject, "metadata">, confirmAbsence: boolean): Promise<PodWithStatus | undefined> {
    const namespace = run.metadata.namespace;
    const name = names.runPod(run.metadata.name ?? "");
    const cached = this.o.cache?.get<PodWithStatus>(RESOURCES.Pod, namespace, name);
    if (cached && isOwnedBy(cached, run)) return cached;
    if (this.o.cache && !confirmAbsence) return undefined;
    const live = await this.o.client.get<PodWithStatus>(RESOURCES.Pod, namespace, name);
    return live && isOwnedBy(live, run) ? live : undefined;
  }

  /**
   * The workspace to start the run in, read live, as long as the run's cached copy is the
   * current one: a stale copy could miss a cancel, or a pod made a moment ago. The cache
   * behind the API (about the run, or the workspace's spec or identity) is a StaleCacheError.
   */
  private async liveToStart(run: Run, cached: Workspace): Promise<Workspace> {
    if (!this.o.cache) return cached;
    const [live, ws] = await Promise.all([this.o.client.get(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? ""), this.workspaceOf(run, "live")]);
    const current = live?.metadata.resourceVersion === run.metadata.resourceVersion && typeof ws !== "string" && ws.metadata.uid === cached.metadata.uid && ws.metadata.generation === cached.metadata.generation;
    if (!current) throw new StaleCacheError(`the cached copies of run ${run.metadata.name} and workspace ${run.spec.workspace} are not the ones in the API`);
    return ws;
  }

  private async startWhenReady(run: Run, cached: Workspace): Promise<ReconcileResult> {
    const planRun = await this.planRunOf(run);
    if (planRun === null) return {};
    // Before the queue: a run still uploading waits outside it (see runQueue).
    const upload = await this.waitForUpload(run, planRun);
    if (upload) return upload;
    if (needsWorkspace(run)) {
      if (uploading(run)) {
        // Said first, so that every run's queue (this one's too) counts it from now on.
        await this.setQueued(run, REASON.ArchiveUploaded, "the configuration is uploaded: taking its place in the queue");
        return { requeueAfter: POLL_MS / 10 };
      }
      const siblings = await runsOfWorkspace(this.o.runs ?? liveRuns(this.o.client), cached);
      const { active, waiting } = runQueue(siblings);
      if (active && active.metadata.name !== run.metadata.name) {
        const position = waiting.findIndex((r) => r.metadata.name === run.metadata.name) + 1;
        await this.setQueued(run, REASON.WaitingForRun, `waiting for run ${active.metadata.name} (position ${position} in the queue)`, active.metadata.name);
        return {};
      }
    }
    // The privilege check and the pod follow the workspace as it is now, an edit included.
    const ws = await this.liveToStart(run, cached);
    const denial = await privilegeDenial(this.o.client, run, ws, answerable(run));
    if (denial) {
      await this.finish(run, "Failed", REASON.Forbidden, denial);
      return {};
    }
    const named = ws.spec.serviceAccountName;
    const refusal = identityRefusal(ws, named ? await this.o.client.get(RESOURCES.ServiceAccount, ws.metadata.namespace, named) : undefined, this.o.apiAudiences);
    if (refusal) {
      await this.finish(run, "Failed", REASON.IdentityRefused, `workspace ${ws.metadata.name}: ${refusal}`);
      return {};
    }
    if (needsWorkspace(run)) {
      const claim = await claimWorkspace(this.o.client, run);
      if (!claim.ok) {
        await this.setQueued(run, REASON.WaitingForRun, `waiting for run ${claim.holder}`, claim.holder);
        return { requeueAfter: POLL_MS };
      }
    }
    return this.createPod(run, ws, planRun);
  }

  /** While the run's configuration is not all uploaded: what to do (wait, or it failed), else undefined. */
  private async waitForUpload(run: Run, planRun: Run | undefined): Promise<ReconcileResult | undefined> {
    const archive = await checkArchive(this.o.client, run, planRun);
    if (archive.kind === "ready") return undefined;
    if (archive.kind === "unusable") {
      await this.finish(run, "Failed", archive.reason, archive.message);
      return {};
    }
    const age = this.o.now().getTime() - Date.parse(run.metadata.creationTimestamp ?? "");
    if (age > this.o.archiveTimeoutMs) {
      await this.finish(run, "Failed", REASON.ArchiveIncomplete, `the configuration was not uploaded in time (${archive.progress})`);
      return {};
    }
    await this.setQueued(run, REASON.WaitingForArchive, `waiting for the configuration upload (${archive.progress})`);
    return { requeueAfter: POLL_MS };
  }

  /**
   * A run of a TFC workspace: TFC's queue, not ktf's; the creator's right to run it checked
   * as for a pod; then one step of cloudRunStep written to the status.
   */
  private async reconcileCloud(run: Run, cached: Workspace): Promise<ReconcileResult> {
    const planRun = await this.planRunOf(run);
    if (planRun === null) return {};
    // Until its TFC run is recorded, a step makes things in TFC: taken from live copies only.
    const ws = run.status?.cloud?.runId ? cached : await this.liveToStart(run, cached);
    if (!run.status?.cloud) {
      const upload = await this.waitForUpload(run, planRun);
      if (upload) return upload;
      const denial = await privilegeDenial(this.o.client, run, ws, answerable(run));
      if (denial) {
        await this.finish(run, "Failed", REASON.Forbidden, denial);
        return {};
      }
    }
    let step: CloudRunStep;
    try {
      const { client } = await cloudClient(this.cloudOptions(), ws);
      step = await cloudRunStep(this.o.client, client, run, ws, planRun);
    } catch (err) {
      const permanent = err instanceof CloudSyncError || (err instanceof CloudApiError && err.status < 500 && err.status !== 429 && err.status !== 409);
      if (permanent) {
        await this.finish(run, "Failed", REASON.CloudRunFailed, errorMessage(err));
        return {};
      }
      this.o.log.warn({ namespace: run.metadata.namespace, name: run.metadata.name, err: errorMessage(err) }, "TFC run not reached; trying again");
      return { requeueAfter: CLOUD_RETRY_MS };
    }
    if (step.kind === "wait") {
      await this.setQueued(run, step.reason, step.message);
      return { requeueAfter: POLL_MS };
    }
    if (step.cloud?.runId && !run.status?.cloud?.runId) {
      const creator = createdBy(run);
      this.o.events.normal(run, "CloudRunStarted", `TFC run ${step.cloud.runId} in TFC workspace ${step.cloud.workspaceId}${creator ? ` for ${creator.username}` : ""}`);
    }
    if (step.kind === "finish") {
      await this.finishWith(run, step, (s) => {
        if (step.cloud) s.cloud = step.cloud;
      });
      return {};
    }
    const pending = step.phase === "Pending";
    await this.writeStatus(run, (s) => {
      s.phase = step.phase;
      s.cloud = step.cloud;
      s.startTime ??= this.o.now().toISOString();
      delete s.waitingFor;
      s.conditions = setCondition(s.conditions, { type: CONDITION.Queued, status: pending ? "True" : "False", reason: pending ? REASON.WaitingForCloud : REASON.Started, message: pending ? step.message : `TFC run ${step.cloud.runId}` }, this.o.now());
      s.conditions = setCondition(s.conditions, { type: CONDITION.Complete, status: "False", reason: REASON.InProgress, message: step.message }, this.o.now());
    });
    return { requeueAfter: CLOUD_POLL_MS };
  }

  /** Discards the TFC run of a saved plan nobody will apply (its run was canceled after it ended). */
  private async discardCloudPlan(run: Run): Promise<void> {
    const ws = await this.workspaceOf(run, "cache");
    const id = run.status?.cloud?.runId;
    if (typeof ws === "string" || !ws.spec.cloud || !id) return;
    try {
      const { client } = await cloudClient(this.cloudOptions(), ws);
      const tr = await client.runs.get(id);
      if (!tr.isDiscardable) return;
      await client.runs.discard(id, `discarded: ktf run ${run.metadata.namespace}/${run.metadata.name} was canceled`);
      this.o.events.normal(run, "CloudPlanDiscarded", `Discarded TFC run ${id}: its plan will not be applied`);
    } catch (err) {
      this.o.log.warn({ namespace: run.metadata.namespace, name: run.metadata.name, err: errorMessage(err) }, "Could not discard the TFC run of a canceled plan");
    }
  }

  private cloudOptions(): CloudSyncOptions {
    return cloudSyncOptions({ client: this.o.client, events: this.o.events }, this.o.cloud);
  }

  /**
   * The plan run an apply applies: undefined when there is none, null when the run failed for
   * it. From the cache; a problem is confirmed live (the plan may have succeeded a moment ago).
   */
  private async planRunOf(run: Run): Promise<Run | undefined | null> {
    const name = run.spec.planRun;
    if (!name) return undefined;
    const parse = (raw: unknown) => (raw ? runSchema.safeParse(raw).data : undefined);
    const cached = parse(this.o.cache?.get(RESOURCES.Run, run.metadata.namespace, name));
    if (cached && !planRunProblem(run, cached)) return cached;
    const plan = parse(await this.o.client.get(RESOURCES.Run, run.metadata.namespace, name));
    const problem = planRunProblem(run, plan);
    if (problem) {
      await this.finish(run, "Failed", REASON.PlanNotFound, problem);
      return null;
    }
    return plan;
  }

  /**
   * A Run being deleted (by hand, or with its workspace) while its pod may still hold the
   * state lock: stop the pod (the engine stops cleanly and unlocks), wait until it is gone,
   * release what it left, then let the Run go.
   */
  private async finalize(run: KubeObject): Promise<ReconcileResult> {
    if (!run.metadata.finalizers?.includes(RUN_FINALIZER)) return {};
    const pod = await this.podOf(run, true);
    if (pod) {
      if (!pod.metadata.deletionTimestamp) await this.o.client.delete(RESOURCES.Pod, pod.metadata.namespace, pod.metadata.name ?? "", { uid: pod.metadata.uid });
      return { requeueAfter: POLL_MS };
    }
    const workspace = (run.spec as { workspace?: string } | undefined)?.workspace ?? "";
    if (await releaseLockOfRun(this.o.client, { namespace: run.metadata.namespace ?? "", suffix: workspace }, run.metadata.name ?? "")) {
      this.o.log.info({ namespace: run.metadata.namespace, name: run.metadata.name }, "Released the state lock of a deleted run");
    }
    const finalizers = run.metadata.finalizers.filter((f) => f !== RUN_FINALIZER);
    await this.o.client.patch(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { metadata: { finalizers, resourceVersion: run.metadata.resourceVersion } });
    return {};
  }

  private async createPod(run: Run, ws: Workspace, planRun: Run | undefined): Promise<ReconcileResult> {
    const creator = createdBy(run);
    // Before there is a pod that could hold the lock: deleting the Run then waits for it.
    if (!run.metadata.finalizers?.includes(RUN_FINALIZER)) {
      const finalizers = [...(run.metadata.finalizers ?? []), RUN_FINALIZER];
      wrote(run, await this.o.client.patch<KubeObject>(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { metadata: { finalizers, resourceVersion: run.metadata.resourceVersion } }));
    }
    const serviceAccountName = ws.spec.serviceAccountName ?? names.runnerServiceAccount(ws.metadata.name ?? "");
    const inputs = await stateInputs({ client: this.o.client, now: this.o.now, ...(this.o.backups ? { backups: this.o.backups } : {}) }, run, creator?.username);
    if (typeof inputs === "string") {
      await this.finish(run, "Failed", REASON.StateNotFound, inputs);
      return {};
    }
    const cliConfig = await this.cliConfigOf(ws);
    if (typeof cliConfig === "string") {
      await this.finish(run, "Failed", REASON.InvalidSpec, cliConfig);
      return {};
    }
    const pod = podForRun({ run, workspace: ws, planRun, image: this.o.runnerImage, serviceAccountName, ...inputs, ...(cliConfig ? { cliConfig } : {}) });
    if (run.spec.interactive && creator) for (const object of consoleAttachAccess(run, creator.username)) await this.o.client.apply(object, { force: true });
    try {
      await this.o.client.create(pod);
      const by = creator ? ` for ${creator.username}` : "";
      this.o.events.normal(run, "Started", `Created pod ${pod.metadata.name}${by}: ${run.spec.command} in workspace ${run.spec.workspace}`);
      this.o.log.info({ namespace: run.metadata.namespace, name: run.metadata.name, pod: pod.metadata.name, user: creator?.username }, "Created run pod");
    } catch (err) {
      if (err instanceof ApiError && POD_REFUSALS.has(err.status)) return this.podRefused(run, err);
      if (!isApiError(err, 409)) throw err;
    }
    await this.writeStatus(run, (s) => {
      s.phase = "Pending";
      s.podName = pod.metadata.name;
      s.startTime ??= this.o.now().toISOString();
      delete s.waitingFor;
      s.conditions = setCondition(s.conditions, { type: CONDITION.Queued, status: "False", reason: REASON.Started, message: `pod ${pod.metadata.name}` }, this.o.now());
      s.conditions = setCondition(s.conditions, { type: CONDITION.Complete, status: "False", reason: REASON.InProgress }, this.o.now());
    });
    return {};
  }

  /** Mirrors the pod into the run's status; the pod's end is the run's end. */
  private async follow(run: Run, pod: PodWithStatus): Promise<ReconcileResult> {
    const container = pod.status?.containerStatuses?.find((c) => c.name === "runner");
    const terminated = container?.state?.terminated;
    if (terminated) {
      // The state sidecar's report says what became of the state and the plan: wait for it.
      const sidecar = pod.status?.initContainerStatuses?.find((c) => c.name === "state");
      const reported = sidecar?.state?.terminated;
      const waited = this.o.now().getTime() - Date.parse(terminated.finishedAt ?? "");
      if (!reported && !podEnded(pod) && !(waited > REPORT_WAIT_MS)) return { requeueAfter: POLL_MS };
      await this.releaseLeftLock(run);
      // A sidecar that restarted lost what it saw (the plan posts among it): its report is not trusted.
      const report = (sidecar?.restartCount ?? 0) === 0 ? parseStateReport(reported?.message) : undefined;
      const outcome = runOutcome(run, { exitCode: terminated.exitCode, error: parseResult(terminated.message).error }, report);
      if (report?.refused.length) this.o.events.warning(run, "StateRequestRefused", `The state sidecar refused: ${report.refused.join("; ")}`.slice(0, 1000));
      await this.finishWith(run, outcome);
      return {};
    }
    if (podEnded(pod)) {
      // The pod ended without a container status (evicted, deleted on the node).
      await this.releaseLeftLock(run);
      await this.finish(run, run.spec.cancel ? "Canceled" : "Failed", REASON.PodLost, `pod ${pod.metadata.name} ended without a result`);
      return {};
    }
    if (run.spec.cancel && !pod.metadata.deletionTimestamp) {
      // Deleting the pod sends SIGTERM; the runner passes it to the engine, which stops
      // cleanly and releases the state lock within the grace period.
      await this.o.client.delete(RESOURCES.Pod, pod.metadata.namespace, pod.metadata.name ?? "", { uid: pod.metadata.uid });
      this.o.events.normal(run, "Canceling", `Stopping pod ${pod.metadata.name}`);
    }
    const running = container?.state?.running !== undefined;
    const problem = running ? undefined : podStartProblem(pod);
    if (problem?.stuck && this.startTimedOut(pod.metadata.creationTimestamp)) {
      await this.o.client.delete(RESOURCES.Pod, pod.metadata.namespace, pod.metadata.name ?? "", { uid: pod.metadata.uid });
      await this.finish(run, "Failed", REASON.PodCannotStart, `the run's pod could not start in ${this.startTimeoutSeconds()}s: ${problem.message}`);
      return {};
    }
    await this.writeStatus(run, (s) => {
      s.phase = running ? "Running" : "Pending";
      s.podName = pod.metadata.name;
      delete s.waitingFor;
      s.conditions = setCondition(s.conditions, { type: CONDITION.Queued, status: "False", reason: REASON.Started, message: `pod ${pod.metadata.name}` }, this.o.now());
      s.conditions = setCondition(
        s.conditions,
        { type: CONDITION.Complete, status: "False", reason: REASON.InProgress, message: problem?.message ?? (running ? "running" : "starting") },
        this.o.now(),
      );
    });
    // A pod that cannot start changes no more: look again to notice the start timeout.
    return running ? {} : { requeueAfter: Math.max(POLL_MS, this.o.startTimeoutMs / 4) };
  }

  /**
   * The engine's CLI configuration: the workspace's Secret, which must exist (a missing
   * volume would leave the pod waiting without a word), else the installation's default
   * where this namespace has it. A string says what is wrong.
   */
  private async cliConfigOf(ws: Workspace): Promise<CliConfigRef | undefined | string> {
    const ns = ws.metadata.namespace;
    const wanted = ws.spec.cliConfig ?? (this.o.defaultCliConfigSecret ? { secretName: this.o.defaultCliConfigSecret, key: CLI_CONFIG_KEY } : undefined);
    if (!wanted) return undefined;
    const secret = await this.o.client.get<KubeObject & { data?: Record<string, string> }>(RESOURCES.Secret, ns, wanted.secretName);
    if (secret?.data?.[wanted.key]) return { ...wanted, ca: Boolean(secret.data[CLI_CONFIG_CA_KEY]) };
    // The installation's default applies only where a namespace has it.
    if (!ws.spec.cliConfig) return undefined;
    return secret ? `spec.cliConfig.key: Secret ${wanted.secretName} has no key ${wanted.key}` : `spec.cliConfig.secretName: Secret ${wanted.secretName} does not exist in namespace ${ns}`;
  }

  private startTimedOut(since: string | undefined): boolean {
    return this.o.now().getTime() - Date.parse(since ?? "") >= this.o.startTimeoutMs;
  }

  private startTimeoutSeconds(): number {
    return Math.round(this.o.startTimeoutMs / 1000);
  }

  /**
   * The API refused the run's pod (a quota is used up, an admission policy says no): say
   * so on the run, and try again until the start timeout, counted from the first try.
   */
  private async podRefused(run: Run, err: ApiError): Promise<ReconcileResult> {
    const since = run.status?.startTime ?? this.o.now().toISOString();
    if (this.startTimedOut(since)) {
      await this.finish(run, "Failed", REASON.PodCannotStart, `the run's pod could not be created in ${this.startTimeoutSeconds()}s: ${err.message}`);
      return {};
    }
    await this.setQueued(run, REASON.PodRefused, `the run's pod was refused: ${err.message}`, undefined, since);
    return { requeueAfter: Math.max(POLL_MS, this.o.startTimeoutMs / 4) };
  }

  /** An engine that was killed never unlocked the state: unlock it for the runs to come. */
  private async releaseLeftLock(run: Run): Promise<void> {
    const loc = { namespace: run.metadata.namespace ?? "", suffix: run.spec.workspace };
    if (await releaseLockOfRun(this.o.client, loc, run.metadata.name ?? "")) {
      this.o.events.warning(run, "LockReleased", `Released the state lock the run left behind`);
      this.o.log.info({ namespace: run.metadata.namespace, name: run.metadata.name }, "Released a state lock left by an ended run");
    }
  }

  private async setQueued(run: Run, reason: string, message: string, waitingFor?: string, startTime?: string): Promise<void> {
    const before = run.status?.conditions?.find((c) => c.type === CONDITION.Queued);
    await this.writeStatus(run, (s) => {
      s.phase = "Queued";
      if (startTime) s.startTime = startTime;
      if (waitingFor) s.waitingFor = waitingFor;
      else delete s.waitingFor;
      s.conditions = setCondition(s.conditions, { type: CONDITION.Queued, status: "True", reason, message }, this.o.now());
      s.conditions = setCondition(s.conditions, { type: CONDITION.Complete, status: "False", reason: REASON.InProgress }, this.o.now());
    });
    if (before?.reason !== reason || before.message !== message) this.o.events.normal(run, reason, message);
  }

  private finish(run: Run, phase: RunPhase, reason: string, message: string): Promise<void> {
    return this.finishWith(run, { phase, reason, message });
  }

  private async finishWith(run: Run, outcome: RunOutcome, more?: (s: RunStatus) => void): Promise<void> {
    const { phase, reason, message } = outcome;
    await this.writeStatus(run, (s) => {
      more?.(s);
      s.phase = phase;
      s.completionTime ??= this.o.now().toISOString();
      delete s.waitingFor;
      if (outcome.exitCode !== undefined) s.exitCode = outcome.exitCode;
      if (outcome.plan) s.plan = outcome.plan;
      s.conditions = setCondition(s.conditions, { type: CONDITION.Queued, status: "False", reason: phase === "Canceled" ? REASON.Canceled : REASON.Started }, this.o.now());
      s.conditions = setCondition(s.conditions, { type: CONDITION.Complete, status: "True", reason, message }, this.o.now());
    });
    // Nothing left to release when it is deleted: it ended, and released what it held.
    if (run.metadata.finalizers?.includes(RUN_FINALIZER)) {
      await this.o.client.patch(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { metadata: { finalizers: run.metadata.finalizers.filter((f) => f !== RUN_FINALIZER) } });
    }
    this.o.metrics?.runsFinished.inc({ phase });
    const text = `Run ${phase.toLowerCase()}: ${message}`;
    if (phase === "Succeeded") this.o.events.normal(run, reason, text);
    else this.o.events.warning(run, reason, text);
    this.o.log.info({ namespace: run.metadata.namespace, name: run.metadata.name, phase, reason }, "Run finished");
  }

  private async writeStatus(run: Run, change: (s: RunStatus) => void): Promise<void> {
    const conditional = { conditional: this.o.cache !== undefined };
    await writeStatus(
      this.o.client,
      RESOURCES.Run,
      run,
      (status: RunStatus) => {
        change(status);
        // Who created the run, as admission recorded it (the annotations cannot change).
        const creator = createdBy(run);
        if (creator && !status.createdBy) status.createdBy = creator;
        const onBehalfOf = run.metadata.annotations?.[ANNOTATIONS.onBehalfOf];
        if (onBehalfOf && !status.onBehalfOf) status.onBehalfOf = onBehalfOf;
      },
      conditional,
    );
  }
}

/** After a write of the run: the reconcile's later conditional writes start from the version it made. */
function wrote(run: Run, written: KubeObject): void {
  if (written.metadata.resourceVersion) run.metadata.resourceVersion = written.metadata.resourceVersion;
}

/** Why `plan` cannot be applied by `run`, or undefined. */
function planRunProblem(run: Run, plan: Run | undefined): string | undefined {
  const name = run.spec.planRun;
  if (!plan) return `plan run ${name} does not exist`;
  if (plan.spec.workspace !== run.spec.workspace) return `plan run ${name} belongs to workspace ${plan.spec.workspace}`;
  if (plan.status?.phase !== "Succeeded") return `plan run ${name} has not succeeded (phase ${plan.status?.phase ?? "none"})`;
  if (!plan.spec.savePlan || !(plan.status.plan?.secretName ?? plan.status.cloud)) return `plan run ${name} did not save its plan (savePlan was not set)`;
  return undefined;
}

/**
 * Whose rights decide a privileged run: the GitHub user the receiver made it for (only the
 * receiver may say so, see src/install/admission.ts), else its creator.
 */
function answerable(run: Run): RunStatus["createdBy"] {
  const onBehalfOf = run.metadata.annotations?.[ANNOTATIONS.onBehalfOf];
  return onBehalfOf ? { username: onBehalfOf, groups: [] } : createdBy(run);
}

/** The creator recorded at admission (see src/install/admission.ts). */
function createdBy(run: Run): RunStatus["createdBy"] {
  const annotations = run.metadata.annotations ?? {};
  const username = annotations[ANNOTATIONS.createdBy];
  if (!username) return undefined;
  return { username, groups: (annotations[ANNOTATIONS.createdByGroups] ?? "").split(",").filter(Boolean) };
}

function podEnded(pod: PodWithStatus): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** The runner's own message, when it wrote one (the configuration's code could have: only shown, never trusted). */
function parseResult(message: string | undefined): { error?: string } {
  if (!message) return {};
  try {
    const parsed = runnerResultSchema.safeParse(JSON.parse(message));
    return parsed.success && parsed.data.error ? { error: parsed.data.error } : {};
  } catch {
    return {};
  }
}
