import { ANNOTATIONS } from "../api/group.js";
import { isFinished, type Run } from "../api/run.js";
import { CONDITION } from "../api/conditions.js";
import { signedLogs, type Fetch } from "../cloud/tfc-client.js";
import { errorMessage } from "../errors.js";
import { RESOURCES } from "../kube/resources.js";
import { plainRunLog } from "../run-log/plain-text.js";
import type { CheckRunAction, CheckRunConclusion, CheckRunUpdate } from "./app-client.js";
import { planCheckOutput } from "./check-output.js";
import { splitRepository, type GitHubContext } from "./context.js";

/** The Apply button, offered on a plan with changes while the PR is mergeable. */
export const APPLY_ACTION: CheckRunAction = { label: "Apply", identifier: "apply", description: "Apply exactly this plan (RBAC: apply)" };

type Stage = "in_progress" | "completed";

/**
 * Tells GitHub how a Run from a pull request goes, on the check run it was made with:
 * in progress once it runs; completed with the plan's summary as the title, its output (cut
 * at GitHub's cap) and a conclusion once it ends. A plan with "No changes" is a success. What
 * was told is recorded on the Run (ktf.dev/github-reported), so a restart tells it once.
 */
export async function reportRun(c: GitHubContext & { fetch?: Fetch }, run: Run): Promise<void> {
  const a = run.metadata.annotations ?? {};
  const checkRunId = Number(a[ANNOTATIONS.githubCheckRun]);
  const installationId = Number(a[ANNOTATIONS.githubInstallation]);
  const repository = a[ANNOTATIONS.githubRepository];
  if (!checkRunId || !installationId || !repository) return;
  const stage: Stage | undefined = isFinished(run) ? "completed" : run.status?.phase === "Running" ? "in_progress" : undefined;
  const told = a[ANNOTATIONS.githubReported];
  if (!stage || told === stage || (told === "completed" && stage === "in_progress")) return;
  const [owner, repo] = splitRepository(repository);
  const api = c.app.forInstallation(installationId);
  const update: CheckRunUpdate = stage === "in_progress" ? { status: "in_progress", startedAt: new Date(run.status?.startTime ?? Date.now()) } : await completion(c, run, async () => (await api.getPull(owner, repo, Number(a[ANNOTATIONS.githubPull]))).mergeable === true);
  await api.updateCheckRun(owner, repo, checkRunId, update);
  await c.kube.patch(RESOURCES.Run, run.metadata.namespace, run.metadata.name ?? "", { metadata: { annotations: { [ANNOTATIONS.githubReported]: stage } } });
  c.log.info({ namespace: run.metadata.namespace, name: run.metadata.name, checkRun: checkRunId, stage }, "Reported a run to its GitHub check run");
}

async function completion(c: GitHubContext & { fetch?: Fetch }, run: Run, mergeable: () => Promise<boolean>): Promise<CheckRunUpdate> {
  const phase = run.status?.phase;
  const complete = run.status?.conditions?.find((x) => x.type === CONDITION.Complete);
  const error = phase === "Succeeded" ? undefined : complete?.message || `the run ${phase === "Canceled" ? "was canceled" : "failed"}`;
  const log = await runLog(c, run).catch((err: unknown) => `(ktf could not read the run's output: ${errorMessage(err)})\n`);
  const hint = `\`ktf runs logs ${run.metadata.name} -n ${run.metadata.namespace}\` shows the whole log`;
  const title = error ? undefined : titleOf(run);
  const output = planCheckOutput({ log, ...(error ? { error } : {}), ...(title ? { title } : {}), fullLogHint: hint, summary: summaryOf(run, error) });
  const conclusion: CheckRunConclusion = phase === "Succeeded" ? "success" : phase === "Canceled" ? "cancelled" : "failure";
  const offer = run.spec.command === "plan" && phase === "Succeeded" && run.status?.plan?.hasChanges && (await mergeable());
  return { status: "completed", conclusion, completedAt: new Date(run.status?.completionTime ?? Date.now()), output, actions: offer ? [APPLY_ACTION] : [] };
}

/** A run that succeeded: "Applied", or the counts ktf took from the saved plan (not a line the configuration's code could print). */
function titleOf(run: Run): string | undefined {
  if (run.spec.command === "apply") return "Applied";
  const counts = run.status?.plan;
  if (!counts) return undefined;
  return counts.hasChanges ? `${counts.add} to add, ${counts.change} to change, ${counts.destroy} to destroy` : "No changes";
}

function summaryOf(run: Run, error: string | undefined): string {
  const a = run.metadata.annotations ?? {};
  const what = run.spec.command === "apply" ? `Apply of the plan of run \`${run.spec.planRun}\`` : "Plan";
  const outcome = error ? `failed: ${error}` : run.spec.command === "apply" ? "applied." : run.status?.plan?.hasChanges ? "the Apply button applies exactly this plan (it needs the RBAC verb apply on the workspace)." : "no changes.";
  return `${what} of workspace \`${run.metadata.namespace}/${run.spec.workspace}\` at ${a[ANNOTATIONS.githubSha]?.slice(0, 7)} for ${run.status?.onBehalfOf ?? a[ANNOTATIONS.onBehalfOf]}, run \`${run.metadata.name}\`: ${outcome}`;
}

/** What the run printed: its pod's log, or a TFC run's plan and apply logs. */
async function runLog(c: GitHubContext & { fetch?: Fetch }, run: Run): Promise<string> {
  const cloud = run.status?.cloud;
  if (cloud) {
    let text = "";
    for (const phase of [cloud.plan, cloud.apply]) if (phase?.logUrl) text += await signedLogs(c.fetch ?? fetch, phase.logUrl).text(phase.logUrl);
    return text;
  }
  const pod = run.status?.podName;
  if (!pod) return "";
  const stream = await c.kube.logs(run.metadata.namespace ?? "", pod, { container: "runner" });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return plainRunLog(Buffer.concat(chunks).toString("utf8").split("\n").filter((l, i, all) => l !== "" || i < all.length - 1));
}
