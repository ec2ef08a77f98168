import { ANNOTATIONS, LABELS } from "../api/group.js";
import type { RunSpec } from "../api/run.js";
import type { PackedConfiguration } from "../archive/pack.js";
import { errorMessage, isApiError } from "../errors.js";
import { createRunWithArchive } from "../runs/create-run.js";
import type { PullRequest } from "./app-client.js";
import { splitRepository, type GitHubContext } from "./context.js";
import { githubUser } from "./github-access.js";
import { repositoryName } from "./touched-workspaces.js";

export interface CheckedRun {
  /** Who asked, where: the Run is theirs (see origin). */
  request: { repository: string; installationId: number; number: number; sender: string };
  pr: PullRequest;
  /** The check run's name on the PR and its first summary. */
  check: { name: string; summary: string };
  namespace: string;
  name: string;
  spec: Omit<Partial<RunSpec>, "archive"> & Pick<RunSpec, "workspace" | "command">;
  configuration?: PackedConfiguration;
}

/**
 * A Run from a pull request and the check run that shows it: the check run first (queued),
 * so the Run is created carrying its ID. A Run of that name already there (a redelivery made
 * it) is left as it is; one that cannot be created fails its check run, saying why.
 * Returns whether it created the Run.
 */
export async function createCheckedRun(c: GitHubContext, r: CheckedRun): Promise<boolean> {
  const [owner, repo] = splitRepository(r.request.repository);
  const api = c.app.forInstallation(r.request.installationId);
  const check = await api.createCheckRun(owner, repo, {
    name: r.check.name,
    headSha: r.pr.headSha,
    status: "queued",
    externalId: `${r.namespace}/${r.name}`,
    output: { title: "Queued", summary: r.check.summary },
  });
  try {
    await createRunWithArchive(c.kube, {
      namespace: r.namespace,
      name: r.name,
      labels: { [LABELS.github]: "true" },
      annotations: { ...c.creator, ...origin(r.request, r.pr, check.id) },
      spec: r.spec,
      ...(r.configuration ? { configuration: r.configuration } : {}),
    });
    return true;
  } catch (err) {
    if (isApiError(err, 409)) return false;
    await api.updateCheckRun(owner, repo, check.id, { status: "completed", conclusion: "failure", output: { title: "Not run", summary: `ktf could not create the run: ${errorMessage(err)}` } });
    throw err;
  }
}

/** What a Run from GitHub records of where it came from (see ANNOTATIONS). */
function origin(r: { repository: string; installationId: number; number: number; sender: string }, pr: PullRequest, checkRunId: number): Record<string, string> {
  return {
    [ANNOTATIONS.onBehalfOf]: githubUser(r.sender),
    [ANNOTATIONS.githubRepository]: repositoryName(r.repository),
    [ANNOTATIONS.githubPull]: String(r.number),
    [ANNOTATIONS.githubSha]: pr.headSha,
    [ANNOTATIONS.githubInstallation]: String(r.installationId),
    [ANNOTATIONS.githubCheckRun]: String(checkRunId),
  };
}
