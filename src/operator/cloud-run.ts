import type { CloudRunStatus } from "../api/cloud.js";
import { REASON, type Reason } from "../api/conditions.js";
import type { PlanSummary, Run, RunPhase } from "../api/run.js";
import type { Workspace } from "../api/workspace.js";
import { chunkName, joinChunks, CHUNK_KEY } from "../archive/chunks.js";
import { cloudRunRequest, type CloudRunRequest } from "../cloud/run-args.js";
import { FINAL_PHASE_STATUSES, isFinalRunStatus, type Phase, type Run as TfcRun, type TfcClient } from "../cloud/tfc-client.js";
import { IntegrityError, UsageError } from "../errors.js";
import { PrintedSummaries } from "../run-log/printed-summaries.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";

/**
 * A Run of a workspace synced to TFC is a TFC run: the operator uploads the Run's archive as a
 * configuration version, creates the TFC run (or, for an apply of a saved plan, confirms the
 * plan run's), and mirrors its status and its phases' log URLs into the Run, from which the
 * CLI streams the log. The token stays in the operator; what a user may start is decided
 * before, by the same admission and privileged verbs as runs in the cluster.
 */

/** One step of a cloud run, for the Run controller to write. */
export type CloudRunStep =
  | { kind: "wait"; reason: Reason; message: string }
  | { kind: "progress"; phase: "Pending" | "Running"; cloud: CloudRunStatus; message: string }
  | { kind: "finish"; phase: RunPhase; reason: Reason; message: string; cloud?: CloudRunStatus; exitCode?: number; plan?: PlanSummary };

/** TFC run statuses before its plan starts: the run waits in TFC's queue. */
const WAITING = new Set(["pending", "fetching", "fetching_completed", "pre_plan_running", "pre_plan_completed", "queuing", "plan_queued"]);

/** TFC run statuses from its confirmation on. */
const CONFIRMED = new Set(["confirmed", "apply_queued", "applying", "applied"]);

/** The TFC run's message: names the Run, so that a reconcile that crashed after creating it finds it again. */
export function cloudRunMessage(run: Run): string {
  return `ktf run ${run.metadata.namespace}/${run.metadata.name} (${run.metadata.uid ?? ""})`;
}

/** What kind of TFC run a Run is: its plan alone, a plan kept for an apply, or a plan and its apply. */
type Kind = "speculative" | "saved-plan" | "apply" | "confirm";

/** Reads the TFC run the Run is (creating or confirming it first) and says where the Run stands. */
export async function cloudRunStep(client: KubeClient, tfc: TfcClient, run: Run, ws: Workspace, planRun: Run | undefined): Promise<CloudRunStep> {
  let request: CloudRunRequest | undefined;
  try {
    request = planRun ? undefined : cloudRunRequest(run.spec.command, run.spec.args, run.spec.savePlan);
  } catch (err) {
    if (err instanceof UsageError) return { kind: "finish", phase: "Failed", reason: REASON.InvalidSpec, message: `workspace ${ws.metadata.name} is synced to TFC: ${err.message}` };
    throw err;
  }
  const kind: Kind = planRun ? "confirm" : request?.planOnly ? "speculative" : run.spec.command === "plan" ? "saved-plan" : "apply";
  let known = run.status?.cloud;
  if (!known) {
    if (run.spec.cancel) return { kind: "finish", phase: "Canceled", reason: REASON.Canceled, message: "canceled before it started" };
    const started = planRun ? confirmTarget(planRun) : await uploadConfiguration(client, tfc, run, ws, request as CloudRunRequest);
    if (typeof started === "string") return { kind: "finish", phase: "Failed", reason: planRun ? REASON.PlanNotFound : REASON.InvalidSpec, message: started };
    if (!started) return { kind: "wait", reason: REASON.WaitingForCloud, message: `waiting for workspace ${ws.metadata.name} to be synced to TFC` };
    // Recorded before the run is created: a reconcile that crashes after creating it finds it by this.
    if (!started.runId) return { kind: "progress", phase: "Pending", cloud: started, message: `configuration uploaded to TFC (${started.configurationVersionId})` };
    known = started;
  }
  if (!known.runId) {
    if (run.spec.cancel) return { kind: "finish", phase: "Canceled", reason: REASON.Canceled, message: "canceled before its TFC run was created" };
    known = { ...known, runId: await createTfcRun(tfc, run, known, request as CloudRunRequest) };
  }
  const runId = known.runId ?? "";
  let tr = await tfc.runs.get(runId);
  let confirmed = known.confirmed;
  if (kind === "confirm" && !confirmed) {
    if (run.spec.cancel) {
      if (tr.isDiscardable) await tfc.runs.discard(tr.id, `discarded by ${cloudRunMessage(run)}`);
      return { kind: "finish", phase: "Canceled", reason: REASON.Canceled, message: `canceled before the saved plan (TFC run ${tr.id}) was confirmed; it is discarded` };
    }
    if (tr.isConfirmable) {
      await tfc.runs.apply(tr.id, `confirmed by ${cloudRunMessage(run)}`);
      confirmed = true;
      tr = await tfc.runs.get(tr.id);
    } else if (CONFIRMED.has(tr.status)) {
      // Confirmed already: by this Run before a crash lost the status that said so (or in TFC).
      confirmed = true;
    } else if (isFinalRunStatus(tr.status)) {
      return { kind: "finish", phase: "Failed", reason: REASON.PlanNotFound, message: `the saved plan (TFC run ${tr.id}) is ${tr.status}: it can no longer be applied; plan again` };
    }
  } else if (run.spec.cancel && !isFinalRunStatus(tr.status)) {
    if (tr.isCancelable) await tfc.runs.cancel(tr.id, `canceled by ${cloudRunMessage(run)}`);
    else if (tr.isDiscardable) await tfc.runs.discard(tr.id, `discarded by ${cloudRunMessage(run)}`);
  }
  const plan = kind !== "confirm" && tr.planId ? await tfc.plans.get(tr.planId) : undefined;
  const apply = (kind === "apply" || kind === "confirm") && tr.applyId && (confirmed || kind === "apply") ? await tfc.applies.get(tr.applyId) : undefined;
  const cloud: CloudRunStatus = {
    ...(known.configurationVersionId ? { configurationVersionId: known.configurationVersionId } : {}),
    runId: tr.id,
    status: tr.status,
    workspaceId: known.workspaceId,
    ...(tr.positionInQueue !== undefined ? { positionInQueue: tr.positionInQueue } : {}),
    ...(confirmed ? { confirmed } : {}),
    ...(plan ? { plan: phaseStatus(tfc, plan) } : {}),
    ...(apply && apply.status !== "unreachable" ? { apply: phaseStatus(tfc, apply) } : {}),
  };
  const ended = kind === "saved-plan" ? Boolean(plan && FINAL_PHASE_STATUSES.has(plan.status) && tr.status !== "planning") || isFinalRunStatus(tr.status) : isFinalRunStatus(tr.status);
  if (ended) return outcome(tr, cloud, plan ? await planSummary(tfc, tr, plan) : undefined, kind, Boolean(request?.detailedExitCode));
  if (kind === "confirm" && !confirmed) return { kind: "progress", phase: "Pending", cloud, message: `waiting for the saved plan (TFC run ${tr.id}, ${tr.status}) to be confirmable` };
  if (WAITING.has(tr.status)) {
    const position = tr.positionInQueue ? `, position ${tr.positionInQueue} in its queue` : "";
    return { kind: "progress", phase: "Pending", cloud, message: `waiting in TFC: run ${tr.id} is ${tr.status}${position}` };
  }
  return { kind: "progress", phase: "Running", cloud, message: `TFC run ${tr.id} is ${tr.status}` };
}

/** The plan run's TFC run, which an apply of its saved plan confirms. */
function confirmTarget(planRun: Run): CloudRunStatus | string {
  const planned = planRun.status?.cloud;
  if (!planned?.runId) return `plan run ${planRun.metadata.name} has no TFC run`;
  return { runId: planned.runId, status: planned.status, workspaceId: planned.workspaceId };
}

/** Uploads the Run's archive as a configuration version of the TFC workspace; undefined while the workspace has no TFC ID yet. */
async function uploadConfiguration(client: KubeClient, tfc: TfcClient, run: Run, ws: Workspace, request: CloudRunRequest): Promise<CloudRunStatus | string | undefined> {
  const workspaceId = ws.status?.cloud?.workspaceId;
  if (!workspaceId) return undefined;
  const archive = run.spec.archive;
  if (!archive) return `${run.spec.command} needs a configuration: run it from the configuration's directory`;
  if (archive.path) {
    return `the configuration reaches outside its directory (local modules under ${archive.path}'s parent); a TFC workspace runs in one working directory: run ktf from the directory that holds them all, with spec.workingDir naming the configuration's directory in it`;
  }
  const bytes = await readArchive(client, run.metadata.namespace ?? "", archive);
  const cv = await tfc.configurationVersions.create(workspaceId, { speculative: request.planOnly });
  await tfc.configurationVersions.upload(cv, bytes);
  await tfc.configurationVersions.waitUploaded(cv.id, { timeoutMs: 60_000 });
  return { workspaceId, configurationVersionId: cv.id };
}

/** The TFC run on the Run's configuration version: the one made already (by a reconcile that crashed), else a new one. */
async function createTfcRun(tfc: TfcClient, run: Run, known: CloudRunStatus, request: CloudRunRequest): Promise<string> {
  const { workspaceId, configurationVersionId } = known;
  const existing = (await tfc.runs.list(workspaceId)).find((r) => r.configurationVersionId === configurationVersionId);
  if (existing) return existing.id;
  const created = await tfc.runs.create({
    workspaceId,
    ...(configurationVersionId ? { configurationVersionId } : {}),
    message: cloudRunMessage(run),
    isDestroy: request.isDestroy,
    autoApply: request.autoApply,
    planOnly: request.planOnly,
    refresh: request.refresh,
    ...(request.targetAddrs.length ? { targetAddrs: request.targetAddrs } : {}),
    ...(request.replaceAddrs.length ? { replaceAddrs: request.replaceAddrs } : {}),
  });
  return created.id;
}

/** The archive the CLI uploaded, from its Secrets, checked against its digest. */
async function readArchive(client: KubeClient, namespace: string, archive: NonNullable<Run["spec"]["archive"]>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < archive.chunks; i++) {
    const secret = await client.get<KubeObject & { data?: Record<string, string> }>(RESOURCES.Secret, namespace, chunkName(archive.name, i));
    const data = secret?.data?.[CHUNK_KEY];
    if (data === undefined) throw new IntegrityError(`chunk ${i} of ${archive.chunks} of the archive ${archive.name} is missing`);
    parts.push(Buffer.from(data, "base64"));
  }
  return joinChunks(parts, archive, `the archive ${archive.name}`);
}

function phaseStatus(tfc: TfcClient, phase: Phase): NonNullable<CloudRunStatus["plan"]> {
  return { status: phase.status, ...(phase.logReadUrl ? { logUrl: new URL(phase.logReadUrl, `${tfc.baseUrl}/`).toString() } : {}) };
}

/**
 * The plan's counts as TFC reports them; a server that reports none (OTF) is read in the
 * plan's log, as the engine printed them there ("Plan: 1 to add, ..."; none printed, none planned).
 */
async function planSummary(tfc: TfcClient, tr: TfcRun, plan: Phase): Promise<PlanSummary & { errored: boolean }> {
  let counts = { add: plan.additions ?? 0, change: plan.changes ?? 0, destroy: plan.destructions ?? 0, import: 0 };
  if (plan.additions === undefined && plan.logReadUrl && plan.status === "finished") {
    const printed = new PrintedSummaries();
    printed.push(await tfc.logs.text(plan.logReadUrl));
    printed.end();
    counts = printed.found.at(-1) ?? counts;
  }
  const hasChanges = tr.hasChanges || Boolean(counts.add + counts.change + counts.destroy + counts.import);
  return { ...counts, hasChanges, errored: plan.status === "errored" };
}

/** How the Run ends, from how its TFC run ended. */
function outcome(tr: TfcRun, cloud: CloudRunStatus, plan: (PlanSummary & { errored: boolean }) | undefined, kind: Kind, detailedExitCode: boolean): CloudRunStep {
  const { errored, ...summary } = plan ?? { errored: false };
  const finished = { kind: "finish" as const, cloud, ...(plan ? { plan: summary as PlanSummary } : {}) };
  switch (tr.status) {
    case "canceled":
    case "force_canceled":
      return { ...finished, phase: "Canceled", reason: REASON.Canceled, message: `TFC run ${tr.id} was canceled` };
    case "errored":
    case "policy_soft_failed":
      return { ...finished, phase: "Failed", reason: REASON.Failed, exitCode: 1, message: `TFC run ${tr.id} ${tr.status === "errored" ? "errored" : "failed a policy check"}` };
    case "discarded":
      if (kind !== "saved-plan") return { ...finished, phase: "Failed", reason: REASON.Failed, exitCode: 1, message: `TFC run ${tr.id} was discarded` };
  }
  if (errored) return { ...finished, phase: "Failed", reason: REASON.Failed, exitCode: 1, message: `the plan of TFC run ${tr.id} errored` };
  const exitCode = detailedExitCode && plan?.hasChanges ? 2 : 0;
  return { ...finished, phase: "Succeeded", reason: REASON.Succeeded, exitCode, message: `TFC run ${tr.id} is ${tr.status}` };
}
