import { CONDITION, REASON } from "../../api/conditions.js";
import { isFinished, type Run } from "../../api/run.js";
import { workspaceSchema, type Output, type Workspace, type WorkspaceStatus } from "../../api/workspace.js";
import { formatIssues } from "../../api/validate.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import type { CachedReader } from "../../kube/cached-reader.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Logger } from "../../log.js";
import { names } from "../../api/names.js";
import { StateStore } from "../../state/state-store.js";
import { deleteStoredState, listStateVersions } from "../../state/state-history.js";
import { versionsToPrune, type StateVersion } from "../../state/state-versions.js";
import { StaleCacheError, errorMessage, isApiError } from "../../errors.js";
import type { Backups } from "../../backup/backups.js";
import type { OperatorMetrics } from "../runtime/metrics.js";
import { backUpVersions, restoreFromBackup } from "../state-backup.js";
import { cacheClaim, outputsConfigMap, outputsSecret, runnerRole, runnerRoleBinding, runnerServiceAccount } from "../builders/workspace-objects.js";
import { runQueue, runsToPrune } from "../run-queue.js";
import { identityRefusal } from "../run-identity.js";
import { KTF_VERSION } from "../../version.js";
import { liveRuns, runsOfWorkspace, type RunLister } from "../workspace-runs.js";
import { setCondition, writeStatus } from "../status.js";
import type { EventSink, ObjectKey, ReconcileResult } from "./types.js";
import { cloudClient, cloudSyncOptions, cloudFailure, syncCloudWorkspace, type CloudSyncOptions, type CloudSyncResult } from "../cloud-workspace.js";
import { CLOUD_FINALIZER, cloudDeletionStep, needsCloudFinalizer, type DeletionStep } from "../cloud-deletion.js";
import { ANNOTATIONS } from "../../api/group.js";
import { ensureModuleRun } from "../cloud-module.js";
import { creatorAnnotations } from "../../runs/creator.js";
import type { ApplyOnce } from "../apply-once.js";

export interface WorkspaceControllerOptions {
  client: KubeClient;
  /** Where Workspaces are read (the informers' cache); live from the API when unset. */
  cache?: CachedReader;
  /** Where the runs of a namespace are read (the informers' cache); live from the API when unset. */
  runs?: RunLister;
  events: EventSink;
  log: Logger;
  now: () => Date;
  /** Where state versions are copied, when the installation has a backup store. */
  backups?: Backups;
  metrics?: OperatorMetrics;
  /** The audiences the API server accepts: no run gets a token for one of them. */
  apiAudiences: readonly string[];
  /** How workspaces with spec.cloud reach TFC. */
  cloud?: Omit<CloudSyncOptions, "client" | "events">;
  /** Remembers what was applied, so that an unchanged object is not sent on every reconcile; every reconcile applies when unset. */
  applied?: ApplyOnce;
}

/** The part of the engine's state file that the workspace shows. */
interface StateFile {
  serial?: number;
  outputs?: Record<string, { value: unknown; type?: unknown; sensitive?: boolean }>;
  resources?: { mode?: string; instances?: unknown[] }[];
}

const IDENTITY_RECHECK_MS = 5000;
/** A TFC workspace is compared with its spec this often, so that a change made in TFC is put back. */
const CLOUD_RESYNC_MS = 60_000;
const CLOUD_RETRY_MS = 15_000;
const CLOUD_SETTLING_MS = 3000;

/**
 * Keeps what a workspace's runs need (ServiceAccount, RBAC for the state, the cache
 * claim) and reports the workspace as it is: its queue and active run, the last run of
 * each command, and its outputs read from the state the engine wrote.
 */
export class WorkspaceController {
  constructor(private readonly o: WorkspaceControllerOptions) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const raw = await this.workspaceOf(key);
    if (raw?.metadata.deletionTimestamp && raw.metadata.finalizers?.includes(CLOUD_FINALIZER)) return this.deleteCloud(raw);
    if (!raw || raw.metadata.deletionTimestamp) return {};
    const parsed = workspaceSchema.safeParse(raw);
    if (!parsed.success) {
      await this.writeStatus(raw as unknown as Workspace, (s) => {
        s.conditions = setCondition(
          s.conditions,
          { type: CONDITION.Ready, status: "False", reason: REASON.InvalidSpec, message: formatIssues(parsed.error.issues).join("; ") },
          this.o.now(),
        );
      });
      return {};
    }
    const ws = parsed.data;
    if (ws.spec.cloud) return this.reconcileCloud(ws);
    const { serviceAccountName, refusal } = await this.ensureRunnerAccess(ws);
    const runs = await runsOfWorkspace(this.o.runs ?? liveRuns(this.o.client), ws);
    const loc = { namespace: ws.metadata.namespace ?? "", suffix: ws.metadata.name ?? "" };
    const store = new StateStore(this.o.client, loc);
    let current = await store.current().catch((err: unknown) => this.stateProblem(ws, err));
    const backup = this.o.backups && { ...this.o, backups: this.o.backups };
    const restore = backup && !current && ws.spec.backup && ws.spec.restoreFromBackup && !ws.status?.backup?.restoreChecked ? await restoreFromBackup(backup, ws, store) : undefined;
    if (restore) current = await store.current();
    // A state of hundreds of MB is read once per version, not on every reconcile.
    const changed = !current?.version || current.version.name !== ws.status?.stateVersion || !ws.status.stateVersions;
    // Nor twice: a cached status that lacks the version may only lag behind the write that recorded it.
    if (changed && !restore && current?.version && !(await this.isCurrent(ws))) throw new StaleCacheError(`the cached workspace ${key.name} is not the one in the API`);
    const state = changed ? await this.readState(ws, store) : undefined;
    const outputs = state?.outputs ?? {};
    if (state) await this.writeOutputs(ws, outputs);
    const versions = changed ? await this.keptVersions(ws, current?.version?.name) : undefined;
    const copied = backup ? await backUpVersions(backup, ws, current, versions) : undefined;

    const { active, waiting } = runQueue(runs);
    const lastRuns = lastRunOfEachCommand(runs);
    const prune = runsToPrune(runs, ws.spec.runHistory, new Set(Object.values(lastRuns)));
    for (const run of prune) await this.o.client.delete(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { uid: run.metadata.uid }).catch((err: unknown) => {
      // Deleted meanwhile, or replaced by a new run of the same name: nothing to do.
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    });
    if (prune.length) this.o.log.info({ namespace: ws.metadata.namespace, name: ws.metadata.name, deleted: prune.length }, "Deleted old finished runs");
    await this.writeStatus(ws, (s) => {
      s.serviceAccountName = serviceAccountName;
      s.operatorVersion = KTF_VERSION;
      setOptional(s, "activeRun", active?.metadata.name);
      s.queue = waiting.map((r) => r.metadata.name ?? "");
      s.lastRuns = lastRuns;
      if (state) {
        s.outputs = visibleOutputs(outputs);
        s.outputsSecret = names.outputsSecret(key.name);
        s.outputsConfigMap = names.outputsSecret(key.name);
        setOptional(s, "stateSerial", state.serial);
      }
      if (versions) {
        setOptional(s, "stateVersion", current?.version?.name);
        s.stateVersions = versions.map((v) => ({ serial: v.serial, lineage: v.lineage, written: v.written, size: v.size, ...(v.run ? { run: v.run } : {}), ...(v.user ? { user: v.user } : {}) }));
      }
      restore?.status(s);
      copied?.status(s);
      const ready = refusal
        ? { status: "False" as const, reason: REASON.IdentityRefused, message: refusal }
        : { status: "True" as const, reason: REASON.Reconciled };
      s.conditions = setCondition(s.conditions, { type: CONDITION.Ready, ...ready, observedGeneration: ws.metadata.generation }, this.o.now());
    });
    // Versions age out even when nothing is written.
    // A ServiceAccount gets its opt-in label without the workspace changing: look again soon.
    const later = [restore?.requeueAfter, copied?.requeueAfter, ws.spec.stateHistory.maxAgeDays ? 3_600_000 : undefined, refusal ? IDENTITY_RECHECK_MS : undefined].filter((x) => x !== undefined);
    return later.length ? { requeueAfter: Math.min(...later) } : {};
  }

  /**
   * The workspace, from the cache when there is one (else, or when the cache has none yet,
   * live). A TFC workspace or a deletion is read live: what they do happens outside the
   * cluster (a TFC workspace made or deleted, a module's run started) and must not be done
   * twice, or skipped, for a status the cache has not caught up with.
   */
  private async workspaceOf(key: ObjectKey): Promise<KubeObject | undefined> {
    const cached = this.o.cache?.get<KubeObject & { spec?: { cloud?: unknown } }>(RESOURCES.Workspace, key.namespace, key.name);
    if (cached && !cached.metadata.deletionTimestamp && !cached.spec?.cloud) return cached;
    return this.o.client.get<KubeObject>(RESOURCES.Workspace, key.namespace, key.name);
  }

  /** Whether the copy `ws` was read from is the workspace as it is now (always, without a cache). */
  private async isCurrent(ws: Workspace): Promise<boolean> {
    if (!this.o.cache) return true;
    const live = await this.o.client.get(RESOURCES.Workspace, ws.metadata.namespace, ws.metadata.name ?? "");
    return live?.metadata.resourceVersion === ws.metadata.resourceVersion;
  }

  /** All outputs into the Secret, the non-sensitive ones into the ConfigMap, both named `<workspace>-outputs`. */
  private async writeOutputs(ws: Workspace, outputs: Record<string, { value: unknown; sensitive?: boolean }>): Promise<void> {
    const { secret, omitted } = outputsSecret(ws, Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value])));
    await this.o.client.apply(secret, { force: true });
    const { configMap } = outputsConfigMap(ws, outputs);
    await this.o.client.apply(configMap, { force: true });
    if (omitted.length) this.o.events.warning(ws, "OutputsTooLarge", `Outputs ${omitted.join(", ")} do not fit in Secret ${secret.metadata.name}; ktf output shows them`);
  }

  /**
   * A workspace synced to TFC: TFC keeps its state and runs its engine, so there is no
   * ServiceAccount, state Secret or cache here; the TFC workspace is kept as the spec says
   * and looked at again every CLOUD_RESYNC_MS (a change made in TFC is put back).
   */
  private async reconcileCloud(ws: Workspace): Promise<ReconcileResult> {
    const o = this.cloudOptions();
    // Before anything is made in TFC: a Workspace deleted from now on carries out its policy.
    if (needsCloudFinalizer(ws) !== Boolean(ws.metadata.finalizers?.includes(CLOUD_FINALIZER))) await this.setCloudFinalizer(ws, needsCloudFinalizer(ws));
    let synced: CloudSyncResult | undefined;
    let failure: ReturnType<typeof cloudFailure> | undefined;
    try {
      const client = await cloudClient(o, ws);
      synced = await syncCloudWorkspace(o, ws, client);
    } catch (err) {
      failure = cloudFailure(err);
      if (ws.status?.conditions?.find((c) => c.type === CONDITION.Ready)?.message !== failure.message) this.o.events.warning(ws, failure.reason, failure.message);
    }
    let module: { digest: string; run: string } | undefined;
    if (synced && ws.spec.module) {
      try {
        module = await ensureModuleRun({ client: this.o.client, events: this.o.events, creator: () => this.creator() }, ws, synced.cloud.variables ?? {});
      } catch (err) {
        failure = { reason: REASON.CloudSyncFailed, message: `starting a run of spec.module: ${errorMessage(err)}` };
      }
    }
    if (synced?.outputs) await this.writeOutputs(ws, synced.outputs);
    await this.writeStatus(ws, (s) => {
      s.operatorVersion = KTF_VERSION;
      if (synced) {
        // A module step that failed keeps what ran before.
        const kept = module ?? (ws.spec.module ? s.cloud?.module : undefined);
        s.cloud = { ...synced.cloud, ...(kept ? { module: kept } : {}) };
        setOptional(s, "stateSerial", synced.serial);
        if (synced.outputs) {
          s.outputs = visibleOutputs(synced.outputs);
          s.outputsSecret = names.outputsSecret(ws.metadata.name ?? "");
          s.outputsConfigMap = names.outputsSecret(ws.metadata.name ?? "");
        }
      }
      const ready = failure ? { status: "False" as const, ...failure } : { status: "True" as const, reason: REASON.CloudSynced, message: `TFC workspace ${synced?.cloud.workspaceName} (${synced?.cloud.workspaceId})` };
      s.conditions = setCondition(s.conditions, { type: CONDITION.Ready, ...ready, observedGeneration: ws.metadata.generation }, this.o.now());
    });
    return { requeueAfter: failure ? CLOUD_RETRY_MS : synced?.settling ? CLOUD_SETTLING_MS : CLOUD_RESYNC_MS };
  }

  /**
   * A cloud Workspace being deleted: carry out its deletionPolicy in TFC, one step a call,
   * with failures in its Ready condition and retried with backoff; the let-go annotation
   * (an admin's way out of a policy that cannot be carried out) releases it as it is.
   */
  private async deleteCloud(raw: KubeObject): Promise<ReconcileResult> {
    const parsed = workspaceSchema.safeParse(raw);
    const letGo = raw.metadata.annotations?.[ANNOTATIONS.cloudLetGo] === "true";
    if (!parsed.success || letGo) {
      const why = letGo ? `annotated ${ANNOTATIONS.cloudLetGo}=true` : `its spec is not valid (${formatIssues(parsed.error?.issues ?? []).join("; ")})`;
      this.o.events.warning(raw, "CloudDeletionAbandoned", `Let go without carrying out the deletionPolicy: ${why}; the TFC workspace is left as it is`);
      await this.setCloudFinalizer(raw, false);
      return {};
    }
    const ws = parsed.data;
    let step: DeletionStep;
    try {
      step = await cloudDeletionStep((await cloudClient(this.cloudOptions(), ws)).client, ws, this.o.now());
    } catch (err) {
      step = { kind: "failed", message: `${cloudFailure(err).message} (annotate the Workspace ${ANNOTATIONS.cloudLetGo}=true to let it go without its deletionPolicy)`, deletion: ws.status?.cloud?.deletion ?? { attempts: 0 }, requeueAfter: CLOUD_RETRY_MS };
    }
    if (step.kind === "done") {
      this.o.events.normal(ws, "CloudWorkspaceDeleted", `deletionPolicy ${ws.spec.cloud?.deletionPolicy}: ${step.message}`);
      await this.setCloudFinalizer(ws, false);
      return {};
    }
    const before = ws.status?.conditions?.find((c) => c.type === CONDITION.Ready);
    const reason = step.kind === "failed" ? REASON.CloudDeletionFailed : REASON.CloudDeleting;
    if (step.kind === "failed" && before?.message !== step.message) this.o.events.warning(ws, reason, step.message);
    await this.writeStatus(ws, (s) => {
      s.cloud = { ...s.cloud, deletion: step.deletion };
      s.conditions = setCondition(s.conditions, { type: CONDITION.Ready, status: "False", reason, message: step.message, observedGeneration: ws.metadata.generation }, this.o.now());
    });
    return { requeueAfter: step.requeueAfter };
  }

  private async setCloudFinalizer(ws: KubeObject, present: boolean): Promise<void> {
    const others = (ws.metadata.finalizers ?? []).filter((f) => f !== CLOUD_FINALIZER);
    const patched = await this.o.client.patch<KubeObject>(RESOURCES.Workspace, ws.metadata.namespace, ws.metadata.name ?? "", { metadata: { finalizers: present ? [...others, CLOUD_FINALIZER] : others, resourceVersion: ws.metadata.resourceVersion } });
    // The status written next is conditional on the version this write made.
    if (patched.metadata.resourceVersion) ws.metadata.resourceVersion = patched.metadata.resourceVersion;
  }

  private creatorAnnotations: Promise<Record<string, string>> | undefined;

  /** Who the operator is, as the runs it starts name their creator: asked once. */
  private creator(): Promise<Record<string, string>> {
    this.creatorAnnotations ??= creatorAnnotations(this.o.client).catch((err: unknown) => {
      this.creatorAnnotations = undefined;
      throw err;
    });
    return this.creatorAnnotations;
  }

  private cloudOptions(): CloudSyncOptions {
    return cloudSyncOptions({ client: this.o.client, events: this.o.events }, this.o.cloud);
  }

  /** The versions kept under the workspace's retention, after deleting the others. */
  private async keptVersions(ws: Workspace, current: string | undefined): Promise<StateVersion[]> {
    const ns = ws.metadata.namespace ?? "";
    const versions = await listStateVersions(this.o.client, ns, ws.metadata.name ?? "");
    const { versions: keep, maxAgeDays } = ws.spec.stateHistory;
    const prune = versionsToPrune(versions, { keep, ...(maxAgeDays ? { maxAgeDays } : {}), ...(current ? { current } : {}), now: this.o.now() });
    for (const version of prune) await deleteStoredState(this.o.client, ns, version);
    if (prune.length) this.o.log.info({ namespace: ns, name: ws.metadata.name, deleted: prune.map((v) => v.serial) }, "Deleted old state versions");
    const gone = new Set(prune.map((v) => v.name));
    return versions.filter((v) => !gone.has(v.name));
  }

  private stateProblem(ws: Workspace, err: unknown): undefined {
    this.o.log.warn({ namespace: ws.metadata.namespace, name: ws.metadata.name, err: errorMessage(err) }, "Cannot read the state's pointer");
    return undefined;
  }

  /**
   * ServiceAccount (unless the workspace names one), Role, RoleBinding and cache claim. A
   * ServiceAccount the workspace may not use is not bound to the state either.
   */
  private async ensureRunnerAccess(ws: Workspace): Promise<{ serviceAccountName: string; refusal?: string }> {
    let serviceAccountName = ws.spec.serviceAccountName;
    const named = serviceAccountName ? await this.o.client.get(RESOURCES.ServiceAccount, ws.metadata.namespace, serviceAccountName) : undefined;
    const refusal = identityRefusal(ws, named, this.o.apiAudiences);
    if (!serviceAccountName) {
      const sa = runnerServiceAccount(ws);
      await this.apply(sa);
      serviceAccountName = sa.metadata.name ?? "";
    }
    await this.apply(runnerRole(ws));
    if (refusal && named) {
      this.o.applied?.forget(runnerRoleBinding(ws, named.metadata.name ?? ""));
      await this.o.client.delete(RESOURCES.RoleBinding, ws.metadata.namespace, names.runnerRole(ws.metadata.name ?? "")).catch((err: unknown) => {
        if (!isApiError(err, 404)) throw err;
      });
    }
    else await this.apply(runnerRoleBinding(ws, serviceAccountName));
    const claim = cacheClaim(ws);
    if (claim && !(await this.o.client.get(RESOURCES.PersistentVolumeClaim, ws.metadata.namespace, claim.metadata.name ?? ""))) {
      // A claim's spec is immutable once bound: create it once, never re-apply it.
      await this.o.client.create(claim);
      this.o.events.normal(ws, "CacheCreated", `Created cache claim ${claim.metadata.name}`);
    }
    return { serviceAccountName, ...(refusal ? { refusal } : {}) };
  }

  private async apply(object: KubeObject): Promise<void> {
    if (this.o.applied) await this.o.applied.apply(this.o.client, object);
    else await this.o.client.apply(object, { force: true });
  }

  /** The engine's state for this workspace, or undefined before the first write. */
  private async readState(ws: Workspace, store: StateStore): Promise<StateFile | undefined> {
    try {
      const state = await store.read();
      return state ? (JSON.parse(state.toString("utf8")) as StateFile) : undefined;
    } catch (err) {
      this.o.log.warn({ namespace: ws.metadata.namespace, name: ws.metadata.name, err: errorMessage(err) }, "Cannot read the state");
      return undefined;
    }
  }

  /** Conditional with a cache: a merge patch from a stale copy would put back what it replaces whole (the conditions). */
  private writeStatus(ws: Workspace, change: (s: WorkspaceStatus) => void): Promise<void> {
    return writeStatus(this.o.client, RESOURCES.Workspace, ws, change, { conditional: this.o.cache !== undefined });
  }
}

function setOptional<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** The longest output value a status shows; status objects stay small. */
const STATUS_VALUE_CHARS = 1024;

/** Outputs that may be shown to anyone who can read the workspace. */
function visibleOutputs(outputs: NonNullable<StateFile["outputs"]>): Output[] {
  return Object.entries(outputs)
    .filter(([, o]) => !o.sensitive)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, o]) => {
      const value = JSON.stringify(o.value);
      return { name, type: o.type === undefined ? "" : JSON.stringify(o.type), value: value.length > STATUS_VALUE_CHARS ? JSON.stringify(`(too large to show here: ${value.length} characters; ktf output ${name} shows it)`) : value };
    });
}

function lastRunOfEachCommand(runs: readonly Run[]): Record<string, string> {
  const last: Record<string, Run> = {};
  for (const run of runs.filter(isFinished)) {
    const seen = last[run.spec.command];
    if (!seen || (run.metadata.creationTimestamp ?? "") >= (seen.metadata.creationTimestamp ?? "")) last[run.spec.command] = run;
  }
  return Object.fromEntries(Object.entries(last).map(([command, run]) => [command, run.metadata.name ?? ""]));
}
