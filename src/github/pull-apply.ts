import { createHash } from "node:crypto";
import { ANNOTATIONS, LABELS } from "../api/group.js";
import { fit } from "../api/names.js";
import { runSchema, type Run } from "../api/run.js";
import { RESOURCES } from "../kube/resources.js";
import { approvers, type PullRequest } from "./app-client.js";
import { createCheckedRun } from "./checked-run.js";
import { splitRepository, type GitHubContext } from "./context.js";
import type { WorkspaceRef } from "./events.js";
import { applyPermission, missingPermission } from "./github-access.js";
import { linkedWorkspaces } from "./linked-workspaces.js";
import { AUTOMATIC, planPull } from "./pull-plans.js";
import { repositoryName } from "./touched-workspaces.js";

export interface ApplyRequest {
  repository: string;
  installationId: number;
  number: number;
  /** Who clicked Apply or commented `ktf apply`: their RBAC decides. */
  sender: string;
  delivery: string;
  /** The Apply button of this plan run (its check run's external_id, namespace/name). */
  planRun?: WorkspaceRef;
  /** `ktf apply -w ns/name`; neither: every workspace of the PR with a plan to apply. */
  workspace?: WorkspaceRef;
}

/**
 * Applies from the pull request exactly the saved plans its check runs show, for the
 * GitHub user who asked, if their RBAC allows it (the apply verb on the workspace) and the
 * workspace's apply requirements hold. A plan of an older head commit is stale: it is
 * refused, and the new head is planned. Every refusal is answered on the PR.
 */
export async function applyPull(c: GitHubContext, r: ApplyRequest): Promise<void> {
  const [owner, repo] = splitRepository(r.repository);
  const api = c.app.forInstallation(r.installationId);
  const pr = await api.getPull(owner, repo, r.number);
  const say = (text: string) => api.createIssueComment(owner, repo, r.number, `@${r.sender} ${text}`);
  if (pr.state !== "open") return void (await say("this pull request is not open: nothing is applied."));
  const plans = r.planRun ? await namedPlan(c, r.planRun) : await latestPlans(c, r, pr);
  if (!plans.length) return void (await say(`there is no plan of ${pr.headSha.slice(0, 7)} to apply${r.workspace ? ` in workspace \`${r.workspace.namespace}/${r.workspace.name}\`` : ""}: comment \`ktf plan\` first.`));
  const workspaces = new Map((await linkedWorkspaces(c.kube, c.namespaces)).map((w) => [`${w.namespace}/${w.name}`, w]));
  for (const plan of plans) {
    const ns = plan.metadata.namespace ?? "";
    const where = `\`${ns}/${plan.spec.workspace}\``;
    const a = plan.metadata.annotations ?? {};
    if (a[ANNOTATIONS.githubRepository] !== repositoryName(r.repository) || a[ANNOTATIONS.githubPull] !== String(r.number)) {
      await say(`run \`${ns}/${plan.metadata.name}\` is not a plan of this pull request: nothing is applied.`);
      continue;
    }
    if (a[ANNOTATIONS.githubSha] !== pr.headSha) {
      await say(`the plan of ${where} is of ${a[ANNOTATIONS.githubSha]?.slice(0, 7)}, and the pull request is now at ${pr.headSha.slice(0, 7)}: that plan is stale and is not applied. Planning ${pr.headSha.slice(0, 7)}.`);
      await planPull(c, { repository: r.repository, installationId: r.installationId, number: r.number, sender: r.sender, delivery: AUTOMATIC, workspace: { namespace: ns, name: plan.spec.workspace } });
      continue;
    }
    if (plan.status?.phase !== "Succeeded" || !plan.status.plan?.hasChanges) {
      await say(`the plan of ${where} (run \`${plan.metadata.name}\`) ${plan.status?.phase === "Succeeded" ? "has no changes" : `is ${plan.status?.phase ?? "not done"}`}: nothing to apply.`);
      continue;
    }
    const ws = workspaces.get(`${ns}/${plan.spec.workspace}`);
    const unmet = ws ? await unmetRequirements(c, r, pr, ws.workspace.spec.vcs?.applyRequirements ?? []) : ["the workspace is no longer linked to this repository"];
    if (unmet.length) {
      await say(`${where} is not applied: ${unmet.join("; ")}.`);
      continue;
    }
    const missing = await missingPermission(c.kube, r.sender, applyPermission(ns, plan.spec.workspace));
    if (missing) {
      await say(`${where} is not applied: ${missing}.`);
      continue;
    }
    await createApply(c, r, pr, plan);
  }
}

async function createApply(c: GitHubContext, r: ApplyRequest, pr: PullRequest, plan: Run): Promise<void> {
  const ns = plan.metadata.namespace ?? "";
  const planName = plan.metadata.name ?? "";
  const name = `${fit(planName, 48)}-apply-${createHash("sha256").update(r.delivery).digest("hex").slice(0, 5)}`;
  if (await c.kube.get(RESOURCES.Run, ns, name)) return;
  const made = await createCheckedRun(c, {
    request: r,
    pr,
    check: { name: `ktf apply: ${ns}/${plan.spec.workspace}`, summary: `Apply of the plan of run \`${planName}\` for @${r.sender}: run \`${name}\`.` },
    namespace: ns,
    name,
    spec: { workspace: plan.spec.workspace, command: "apply", args: ["-input=false"], planRun: planName },
  });
  if (!made) return;
  c.log.info({ namespace: ns, name, plan: planName, pull: r.number, user: r.sender }, "Created an apply run from a pull request");
}

async function namedPlan(c: GitHubContext, ref: WorkspaceRef): Promise<Run[]> {
  const raw = await c.kube.get(RESOURCES.Run, ref.namespace, ref.name);
  return raw ? [runSchema.parse(raw)] : [];
}

/** The newest plan run of this PR for each workspace (of one workspace with -w). */
async function latestPlans(c: GitHubContext, r: ApplyRequest, pr: PullRequest): Promise<Run[]> {
  const namespaces = r.workspace ? [r.workspace.namespace] : c.namespaces.length ? c.namespaces : [undefined];
  const runs = (await Promise.all(namespaces.map((ns) => c.kube.list(RESOURCES.Run, ns, { labelSelector: `${LABELS.github}=true` }))))
    .flatMap((l) => l.items)
    .map((raw) => runSchema.parse(raw))
    .filter((run) => run.spec.command === "plan" && run.metadata.annotations?.[ANNOTATIONS.githubRepository] === repositoryName(r.repository) && run.metadata.annotations[ANNOTATIONS.githubPull] === String(pr.number))
    .filter((run) => !r.workspace || run.spec.workspace === r.workspace.name)
    .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
  const newest = new Map<string, Run>();
  for (const run of runs) {
    const key = `${run.metadata.namespace}/${run.spec.workspace}`;
    if (!newest.has(key)) newest.set(key, run);
  }
  return [...newest.values()];
}

async function unmetRequirements(c: GitHubContext, r: ApplyRequest, pr: PullRequest, requirements: readonly string[]): Promise<string[]> {
  const unmet: string[] = [];
  if (requirements.includes("mergeable") && pr.mergeable !== true) unmet.push(`the pull request must be mergeable (it is ${pr.mergeableState})`);
  if (requirements.includes("approved")) {
    const [owner, repo] = splitRepository(r.repository);
    const by = approvers(await c.app.forInstallation(r.installationId).listReviews(owner, repo, r.number)).filter((u) => u !== pr.author);
    if (!by.length) unmet.push("the pull request must be approved");
  }
  return unmet;
}
