import { changesState } from "../api/commands.js";
import { CONDITION, REASON } from "../api/conditions.js";
import { ANNOTATIONS } from "../api/group.js";
import { isFinished, type Run } from "../api/run.js";

/** Whether a run has to wait for the workspace (it can change or lock state). */
export function needsWorkspace(run: Run): boolean {
  return changesState(run.spec.command, run.spec.args);
}

/** Whether the operator already created the run's pod (a started run keeps its turn). */
function hasStarted(run: Run): boolean {
  return Boolean(run.status?.podName);
}

/**
 * Whether the operator found the run's configuration still uploading: such a run takes no
 * place in the queue (a CLI stopped mid-upload must not hold the workspace) and joins it,
 * at its creation time, once the upload is complete.
 */
export function uploading(run: Run): boolean {
  return run.status?.phase === "Queued" && run.status.conditions?.some((c) => c.type === CONDITION.Queued && c.reason === REASON.WaitingForArchive) === true;
}

function createdBefore(a: Run, b: Run): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}

export interface RunQueue {
  /** The run that holds the workspace, or would be started next. */
  active?: Run;
  /** The runs waiting behind it, first first. */
  waiting: Run[];
}

/**
 * One workspace's state-changing runs, but those still uploading, in the order they were created (creation time,
 * then name, as the API server's timestamps have one-second resolution). A run that has
 * started stays at the head even if an earlier-named one appears in the same second.
 */
export function runQueue(runs: readonly Run[]): RunQueue {
  const pending = runs.filter((r) => needsWorkspace(r) && !isFinished(r) && !uploading(r)).sort(createdBefore);
  const started = pending.find(hasStarted);
  const active = started ?? pending[0];
  return { active, waiting: pending.filter((r) => r !== active) };
}

/**
 * The finished runs past the newest `keep` (by creation), which go: runs would otherwise
 * pile up for ever. Kept whatever their age: the last run of each command (the workspace's
 * status names them), plan runs an unfinished apply still applies, and runs whose archive
 * an unfinished run reuses (until the operator made that run an owner of its chunks too).
 */
export function runsToPrune(runs: readonly Run[], keep: number, protectedNames: ReadonlySet<string>): Run[] {
  const needed = new Set(runs.filter((r) => !isFinished(r)).flatMap((r) => [r.spec.planRun, r.metadata.annotations?.[ANNOTATIONS.archiveFrom]].filter((n) => n !== undefined)));
  const finished = runs.filter(isFinished).sort((a, b) => -createdBefore(a, b));
  return finished.slice(keep).filter((r) => !protectedNames.has(r.metadata.name ?? "") && !needed.has(r.metadata.name ?? ""));
}
