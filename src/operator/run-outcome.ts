import { REASON } from "../api/conditions.js";
import { names } from "../api/names.js";
import type { PlanSummary, Run, RunPhase } from "../api/run.js";
import { chunkName } from "../archive/chunks.js";
import type { StateReportData } from "../state/state-report.js";

export interface RunOutcome {
  phase: RunPhase;
  reason: string;
  message: string;
  exitCode?: number;
  plan?: PlanSummary;
}

/** Exit code 0 succeeds; 2 also does for `plan -detailed-exitcode` (it means "changes"). */
function succeeded(run: Run, exitCode: number): boolean {
  if (exitCode === 0) return true;
  return exitCode === 2 && run.spec.command === "plan" && run.spec.args.includes("-detailed-exitcode");
}

/**
 * How a run whose engine container ended ended (pure): the exit code as the kubelet saw
 * it, the saved plan and what became of the state as the state sidecar reported them.
 * Nothing the configuration's code could write decides it; the runner's message is only shown.
 */
export function runOutcome(run: Run, runner: { exitCode: number; error?: string }, report: StateReportData | undefined): RunOutcome {
  const { exitCode } = runner;
  const name = run.metadata.name ?? "";
  if (run.spec.cancel) return { phase: "Canceled", reason: REASON.Canceled, message: runner.error ?? `${run.spec.command} exited with code ${exitCode}`, exitCode };
  if (report?.errored) {
    const where = `Secrets ${chunkName(report.errored.name, 0)}...`;
    return {
      phase: "Failed",
      reason: REASON.StateNotSaved,
      message: `the engine could not save the state (serial ${report.errored.serial}); ktf kept it in ${where}: push it back with: ktf state recover ${name}`,
      exitCode,
    };
  }
  if (!succeeded(run, exitCode)) return { phase: "Failed", reason: REASON.Failed, message: runner.error ?? `${run.spec.command} exited with code ${exitCode}`, exitCode };
  if (run.spec.command === "plan" && run.spec.savePlan) {
    if (report?.planContested) {
      return { phase: "Failed", reason: REASON.PlanNotKept, message: "a second plan was posted to the state sidecar during the run (by the configuration's code?): no plan is kept", exitCode };
    }
    if (!report?.plan) return { phase: "Failed", reason: REASON.PlanNotKept, message: "the state sidecar reported no saved plan: none is kept", exitCode };
    return { phase: "Succeeded", reason: REASON.Succeeded, message: `${run.spec.command} exited with code ${exitCode}`, exitCode, plan: { ...report.plan, secretName: names.planSecret(name) } };
  }
  return { phase: "Succeeded", reason: REASON.Succeeded, message: runner.error ?? `${run.spec.command} exited with code ${exitCode}`, exitCode };
}
