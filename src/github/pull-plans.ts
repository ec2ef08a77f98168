import { createHash } from "node:crypto";
import { fit } from "../api/names.js";
import type { PackedConfiguration } from "../archive/pack.js";
import { KtfError } from "../errors.js";
import { RESOURCES } from "../kube/resources.js";
import type { PullRequest } from "./app-client.js";
import { createCheckedRun } from "./checked-run.js";
import { splitRepository, type GitHubContext } from "./context.js";
import type { WorkspaceRef } from "./events.js";
import { missingPermission, planPermission } from "./github-access.js";
import { checkRunName, linkedWorkspaces, type GitHubWorkspace } from "./linked-workspaces.js";
import { configurationFromTarball } from "./tarball.js";
import { repositoryName, touchedWorkspaces } from "./touched-workspaces.js";

export interface PlanRequest {
  repository: string;
  installationId: number;
  number: number;
  /** Who caused it: the PR's pusher, or who commented `ktf plan`. */
  sender: string;
  /**
   * What makes its run names: a redelivery makes the same, so nothing runs twice. Plans that
   * come on their own with a push (pull_request, check_suite requested, a stale apply's
   * re-plan) share AUTOMATIC, so the head is planned once; one asked for again (a comment, a
   * re-run) is the delivery's own.
   */
  delivery: string;
  /** Asked for by a `ktf plan` comment: also a fork's PR, and the commenter's plan permission is checked. */
  byComment?: boolean;
  /** Only this workspace (`ktf plan -w ns/name`). */
  workspace?: WorkspaceRef;
}

/** The `delivery` of plans that come with a push: one per workspace and head commit. */
export const AUTOMATIC = "automatic";

/** GitHub lists at most this many files of a PR: beyond, every linked workspace counts as touched. */
const MAX_LISTED_FILES = 3000;

/**
 * Plans the workspaces a pull request touches on its head commit: for each a check run
 * (queued), then a plan Run for the PR's sender that keeps its plan (the Apply button
 * applies exactly it). A PR from a fork is not planned until someone with the plan
 * permission comments `ktf plan`: its code would run with the workspace's credentials.
 */
export async function planPull(c: GitHubContext, r: PlanRequest): Promise<void> {
  const [owner, repo] = splitRepository(r.repository);
  const api = c.app.forInstallation(r.installationId);
  const pr = await api.getPull(owner, repo, r.number);
  if (pr.state !== "open") return;
  const workspaces = await touched(c, r, pr);
  if (!workspaces.length) return;
  const fromFork = !pr.headRepository || repositoryName(pr.headRepository) !== repositoryName(pr.baseRepository);
  if (fromFork && !r.byComment) {
    for (const ws of workspaces) await forkNotice(c, r, pr, ws);
    return;
  }
  const allowed: GitHubWorkspace[] = [];
  const refusals: string[] = [];
  for (const ws of workspaces) {
    const missing = r.byComment ? await missingPermission(c.kube, r.sender, planPermission(ws.namespace)) : undefined;
    if (missing) refusals.push(`- \`${ws.namespace}/${ws.name}\`: ${missing}`);
    else allowed.push(ws);
  }
  if (refusals.length) await api.createIssueComment(owner, repo, r.number, `@${r.sender} ktf did not plan:\n${refusals.join("\n")}`);
  if (!allowed.length) return;
  const tarball = await api.downloadTarball(owner, repo, pr.headSha);
  for (const ws of allowed) {
    const name = planRunName(ws, pr, r.delivery);
    if (await c.kube.get(RESOURCES.Run, ws.namespace, name)) continue;
    let configuration: PackedConfiguration;
    try {
      // The archive's root is the repository's (path ""), so the run works in spec.workingDir of it.
      configuration = { ...(await configurationFromTarball(tarball, ws.workingDir, c.tmpDir ? { tmpDir: c.tmpDir } : {})), path: "" };
    } catch (err) {
      // The commit's configuration cannot be packed (no configuration there, a module leaving the repository): say so on the PR.
      if (!(err instanceof KtfError)) throw err;
      await api.createCheckRun(owner, repo, { name: checkRunName(ws), headSha: pr.headSha, status: "completed", conclusion: "failure", externalId: `error:${ws.namespace}/${ws.name}`, output: { title: "Not planned", summary: `ktf could not take the configuration of \`${ws.namespace}/${ws.name}\` (workingDir \`${ws.workingDir || "."}\`) from ${pr.headSha.slice(0, 7)}: ${err.message}` } });
      continue;
    }
    const made = await createCheckedRun(c, {
      request: r,
      pr,
      check: { name: checkRunName(ws), summary: `Plan of workspace \`${ws.namespace}/${ws.name}\` at ${pr.headSha.slice(0, 7)} for @${r.sender}: run \`${name}\`.` },
      namespace: ws.namespace,
      name,
      spec: { workspace: ws.name, command: "plan", args: ["-input=false"], savePlan: true },
      configuration,
    });
    if (!made) continue;
    c.log.info({ namespace: ws.namespace, name, repository: r.repository, pull: r.number, sha: pr.headSha }, "Created a plan run for a pull request");
  }
}

async function touched(c: GitHubContext, r: PlanRequest, pr: PullRequest): Promise<GitHubWorkspace[]> {
  const [owner, repo] = splitRepository(r.repository);
  const linked = (await linkedWorkspaces(c.kube, c.namespaces)).filter((w) => !r.workspace || (w.namespace === r.workspace.namespace && w.name === r.workspace.name));
  const files = await c.app.forInstallation(r.installationId).listPullFiles(owner, repo, r.number);
  if (pr.changedFiles > files.length || files.length >= MAX_LISTED_FILES) {
    return linked.filter((w) => repositoryName(w.vcs.repository) === repositoryName(pr.baseRepository) && w.vcs.branch === pr.baseRef);
  }
  return touchedWorkspaces(linked, { baseRepository: pr.baseRepository, baseBranch: pr.baseRef, files: files.map((f) => ({ filename: f.filename, ...(f.previousFilename ? { previousFilename: f.previousFilename } : {}) })) });
}

/** The check run of a fork's PR says why it was not planned, and how to have it planned. */
async function forkNotice(c: GitHubContext, r: PlanRequest, pr: PullRequest, ws: GitHubWorkspace): Promise<void> {
  const [owner, repo] = splitRepository(r.repository);
  await c.app.forInstallation(r.installationId).createCheckRun(owner, repo, {
    name: checkRunName(ws),
    headSha: pr.headSha,
    status: "completed",
    conclusion: "neutral",
    externalId: `fork:${ws.namespace}/${ws.name}`,
    output: {
      title: "Not planned: the pull request comes from a fork",
      summary:
        `Its code would run with the credentials of workspace \`${ws.namespace}/${ws.name}\` during the plan, so ktf does not plan it on its own. ` +
        `Someone who may plan there (the RBAC verb "create" on runs.ktf.dev in namespace ${ws.namespace}, as github:<login>) comments \`ktf plan\` once they have read the change.`,
    },
  });
}

/** One name per workspace, PR head and delivery: a redelivery finds the run it made. */
function planRunName(ws: GitHubWorkspace, pr: PullRequest, delivery: string): string {
  const tag = createHash("sha256").update(`${delivery}\n${ws.namespace}/${ws.name}`).digest("hex").slice(0, 6);
  return `${fit(ws.name, 30)}-pr${pr.number}-${pr.headSha.slice(0, 7)}-${tag}`.toLowerCase();
}
