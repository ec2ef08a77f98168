import type { CloudDeletionStatus } from "../api/cloud.js";
import type { Workspace } from "../api/workspace.js";
import { isFinalRunStatus, type TfcClient } from "../cloud/tfc-client.js";
import { errorMessage, isCloudApiError } from "../errors.js";

/** Holds a deleted cloud Workspace until its deletionPolicy is carried out in TFC. */
export const CLOUD_FINALIZER = "ktf.dev/cloud-deletion-policy";

/** Waits between failed attempts: doubling from 30 s, at most 10 min, so a failing destroy neither hangs silently nor hammers TFC. */
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 600_000;
const POLL_MS = 5000;

export type DeletionStep =
  | { kind: "done"; message: string }
  | { kind: "pending"; message: string; deletion: CloudDeletionStatus; requeueAfter: number }
  | { kind: "failed"; message: string; deletion: CloudDeletionStatus; requeueAfter: number };

/** Whether a Workspace needs the finalizer: only a policy that does something in TFC does. */
export function needsCloudFinalizer(ws: Workspace): boolean {
  return Boolean(ws.spec.cloud && ws.spec.cloud.deletionPolicy !== "retain");
}

/**
 * One step of deleting a cloud Workspace's TFC workspace as its deletionPolicy says:
 * force deletes; soft safe-deletes (TFC refuses while resources are managed); destroy queues
 * a destroy run, waits for it, then deletes. A failure is kept in status and retried with
 * backoff; nothing is retried before its time.
 */
export async function cloudDeletionStep(tfc: TfcClient, ws: Workspace, now: Date): Promise<DeletionStep> {
  const policy = ws.spec.cloud?.deletionPolicy ?? "retain";
  const id = ws.status?.cloud?.workspaceId;
  const previous = ws.status?.cloud?.deletion ?? { attempts: 0 };
  if (!id || policy === "retain") return { kind: "done", message: policy === "retain" ? "retained" : "no TFC workspace was made" };
  if (previous.retryAt && Date.parse(previous.retryAt) > now.getTime()) {
    // Waiting out the backoff: what failed stays what the condition says.
    const said = ws.status?.conditions?.find((c) => c.type === "Ready")?.message;
    return { kind: "failed", message: said ?? `next attempt at ${previous.retryAt}`, deletion: previous, requeueAfter: Date.parse(previous.retryAt) - now.getTime() };
  }
  const failed = (why: string, deletion: CloudDeletionStatus = previous): DeletionStep => {
    const attempts = deletion.attempts + 1;
    const wait = Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
    const retryAt = new Date(now.getTime() + wait).toISOString();
    return { kind: "failed", message: `${why}; attempt ${attempts}, next at ${retryAt} (annotate the Workspace ktf.dev/cloud-let-go=true to let it go without this)`, deletion: { ...deletion, attempts, retryAt }, requeueAfter: wait };
  };
  try {
    if (policy === "destroy") {
      const step = await destroyFirst(tfc, id, ws, previous);
      if (step !== undefined) return typeof step === "string" ? failed(step, { attempts: previous.attempts }) : step;
    }
    if (policy === "soft") await tfc.workspaces.safeDelete(id);
    else await tfc.workspaces.delete(id);
    return { kind: "done", message: `deleted TFC workspace ${id} (${policy})` };
  } catch (err) {
    if (isCloudApiError(err, 404)) {
      // Gone already (or a server without safe-delete: say so rather than hang).
      if (policy !== "soft" || !(await exists(tfc, id))) return { kind: "done", message: `TFC workspace ${id} is gone` };
      return failed(`${tfc.host} has no safe-delete for TFC workspace ${id} (${errorMessage(err)})`);
    }
    if (policy === "soft" && isCloudApiError(err, 409)) return failed(`TFC refused to safe-delete workspace ${id}: its state still manages resources; destroy them first, or set deletionPolicy force`);
    return failed(`deleting TFC workspace ${id}: ${errorMessage(err)}`);
  }
}

/** A destroy run of the workspace, started once per attempt and followed: undefined once destroyed, a step to write, or why it failed. */
async function destroyFirst(tfc: TfcClient, id: string, ws: Workspace, previous: CloudDeletionStatus): Promise<DeletionStep | string | undefined> {
  const state = await tfc.stateVersions.current(id);
  if (!state) return undefined;
  if (!previous.runId) {
    // planOnly false: a run on the latest configuration version would otherwise be speculative when that version is.
    const run = await tfc.runs.create({ workspaceId: id, isDestroy: true, autoApply: true, planOnly: false, message: `ktf: Workspace ${ws.metadata.namespace}/${ws.metadata.name} was deleted (deletionPolicy destroy)` });
    return { kind: "pending", message: `destroying what TFC workspace ${id} manages: run ${run.id}`, deletion: { attempts: previous.attempts, runId: run.id }, requeueAfter: POLL_MS };
  }
  const run = await tfc.runs.get(previous.runId);
  if (!isFinalRunStatus(run.status)) return { kind: "pending", message: `destroying what TFC workspace ${id} manages: run ${run.id} is ${run.status}`, deletion: previous, requeueAfter: POLL_MS };
  if (run.status === "applied" || run.status === "planned_and_finished") return undefined;
  return `the destroy run ${run.id} of TFC workspace ${id} ended ${run.status}`;
}

async function exists(tfc: TfcClient, id: string): Promise<boolean> {
  try {
    await tfc.workspaces.get(id);
    return true;
  } catch (err) {
    if (isCloudApiError(err, 404)) return false;
    throw err;
  }
}
