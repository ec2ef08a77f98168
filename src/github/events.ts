import { z } from "zod";
import { formatIssues } from "../api/validate.js";

/**
 * What ktf acts on, read from GitHub's webhook deliveries. Only the fields ktf uses are
 * read (zod strips the rest), so a payload that grows new fields still parses; one that
 * lacks a field ktf needs becomes `ignored` with the schema's complaint as the reason.
 */
export type GitHubEvent = PullRequestPlan | CheckSuiteRequest | CheckRunRerequest | CheckRunAction | CommentCommand | CommentError | Ignored;

/** Where an event happened: the repository (the PR's base) and the App installation to act as. */
export interface EventOrigin {
  /** "owner/repo" */
  repository: string;
  installationId: number;
  /** Who caused the delivery (the PR's pusher, the commenter, who clicked the button). */
  sender: string;
}

/** A pull request opened, reopened or pushed to: plan the workspaces it touches. */
export interface PullRequestPlan extends EventOrigin {
  kind: "pull-request";
  action: "opened" | "reopened" | "synchronize";
  number: number;
  headSha: string;
  headRef: string;
  baseRef: string;
  /** "owner/repo" of the head; undefined when the fork was deleted. */
  headRepository: string | undefined;
  /** The head is in another repository than the base: its code is not the base owners'. */
  isFork: boolean;
}

/** A pull request as GitHub lists it inside check suites and check runs (same repository only). */
export interface LinkedPull {
  number: number;
  headSha: string;
  headRef: string;
  baseRef: string;
}

/**
 * GitHub asks for checks on a commit (requested) or someone pressed "Re-run all checks".
 * GitHub leaves `pullRequests` empty for a PR from a fork.
 */
export interface CheckSuiteRequest extends EventOrigin {
  kind: "check-suite";
  action: "requested" | "rerequested";
  checkSuiteId: number;
  headSha: string;
  /** null when the commit is on no branch (a tag, a deleted branch). */
  headBranch: string | null;
  pullRequests: LinkedPull[];
}

/** Someone pressed "Re-run" on one of ktf's check runs. */
export interface CheckRunRerequest extends EventOrigin {
  kind: "check-run-rerequested";
  checkRunId: number;
  /** What ktf put in external_id when it created the check run (the Run's namespace/name). */
  externalId: string | undefined;
  headSha: string;
  pullRequests: LinkedPull[];
}

/** Someone pressed one of the buttons ktf offered on a check run ("apply"). */
export interface CheckRunAction extends EventOrigin {
  kind: "check-run-action";
  /** The `identifier` of the action ktf offered. */
  identifier: string;
  checkRunId: number;
  externalId: string | undefined;
  headSha: string;
  pullRequests: LinkedPull[];
}

/** A workspace as a comment names it, `-w namespace/name`. */
export interface WorkspaceRef {
  namespace: string;
  name: string;
}

/** A PR comment that is a ktf command. */
export interface CommentCommand extends EventOrigin {
  kind: "comment-command";
  command: "plan" | "apply";
  /** The workspace named with -w; undefined means every workspace the PR touches. */
  workspace: WorkspaceRef | undefined;
  number: number;
  commentId: number;
  /** GitHub's author_association of the comment: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE... */
  authorAssociation: string;
}

/** A PR comment that starts with `ktf ` but is no command ktf knows: `reply` says why. */
export interface CommentError extends EventOrigin {
  kind: "comment-error";
  reply: string;
  number: number;
  commentId: number;
}

export interface Ignored {
  kind: "ignored";
  reason: string;
}

const repo = z.object({ full_name: z.string() });
const installation = z.object({ id: z.number() });
const sender = z.object({ login: z.string(), type: z.string().optional() });

const pullRequestEvent = z.object({
  action: z.enum(["opened", "reopened", "synchronize"]),
  number: z.number(),
  pull_request: z.object({
    head: z.object({ sha: z.string(), ref: z.string(), repo: repo.nullable() }),
    base: z.object({ ref: z.string(), repo }),
  }),
  repository: repo,
  installation,
  sender,
});

const linkedPull = z.object({
  number: z.number(),
  head: z.object({ sha: z.string(), ref: z.string() }),
  base: z.object({ ref: z.string() }),
});

const checkSuiteEvent = z.object({
  action: z.enum(["requested", "rerequested"]),
  check_suite: z.object({
    id: z.number(),
    head_sha: z.string(),
    head_branch: z.string().nullable(),
    pull_requests: z.array(linkedPull),
  }),
  repository: repo,
  installation,
  sender,
});

const checkRunEvent = z.object({
  action: z.enum(["rerequested", "requested_action"]),
  check_run: z.object({
    id: z.number(),
    external_id: z.string().nullable().optional(),
    head_sha: z.string(),
    pull_requests: z.array(linkedPull),
  }),
  requested_action: z.object({ identifier: z.string() }).nullable().optional(),
  repository: repo,
  installation,
  sender,
});

const issueCommentEvent = z.object({
  action: z.literal("created"),
  issue: z.object({ number: z.number(), pull_request: z.object({ url: z.string() }).optional() }),
  comment: z.object({ id: z.number(), body: z.string(), author_association: z.string() }),
  repository: repo,
  installation,
  sender,
});

const ACTED_ON: Record<string, readonly string[]> = {
  pull_request: ["opened", "reopened", "synchronize"],
  check_suite: ["requested", "rerequested"],
  check_run: ["rerequested", "requested_action"],
  issue_comment: ["created"],
};

/** Turns one delivery (its `X-GitHub-Event` and parsed body) into what ktf does about it. */
export function parseEvent(event: string, payload: unknown): GitHubEvent {
  const action = actionOf(payload);
  const actions = ACTED_ON[event];
  if (!actions) return ignored(`ktf does not act on ${event} events`);
  if (action === undefined || !actions.includes(action)) return ignored(`ktf does not act on ${event}.${action ?? "(no action)"}`);
  if (!hasInstallation(payload)) return ignored(`${event}.${action} has no installation: it was not sent to a GitHub App`);
  switch (event) {
    case "pull_request":
      return parsed(`${event}.${action}`, pullRequestEvent, payload, pullRequestPlan);
    case "check_suite":
      return parsed(`${event}.${action}`, checkSuiteEvent, payload, checkSuiteRequest);
    case "check_run":
      return parsed(`${event}.${action}`, checkRunEvent, payload, checkRun);
    default:
      return parsed(`${event}.${action}`, issueCommentEvent, payload, issueComment);
  }
}

function parsed<S extends z.ZodType>(what: string, schema: S, payload: unknown, build: (p: z.infer<S>) => GitHubEvent): GitHubEvent {
  const result = schema.safeParse(payload);
  if (!result.success) return ignored(`${what} is not as ktf expects: ${formatIssues(result.error.issues).join("; ")}`);
  return build(result.data);
}

function origin(p: { repository: { full_name: string }; installation: { id: number }; sender: { login: string } }): EventOrigin {
  return { repository: p.repository.full_name, installationId: p.installation.id, sender: p.sender.login };
}

function pullRequestPlan(p: z.infer<typeof pullRequestEvent>): PullRequestPlan {
  const head = p.pull_request.head;
  const headRepository = head.repo?.full_name;
  return {
    kind: "pull-request",
    ...origin(p),
    repository: p.pull_request.base.repo.full_name,
    action: p.action,
    number: p.number,
    headSha: head.sha,
    headRef: head.ref,
    baseRef: p.pull_request.base.ref,
    headRepository,
    // GitHub compares repository names case-insensitively.
    isFork: headRepository?.toLowerCase() !== p.pull_request.base.repo.full_name.toLowerCase(),
  };
}

function linkedPulls(pulls: z.infer<typeof linkedPull>[]): LinkedPull[] {
  return pulls.map((pr) => ({ number: pr.number, headSha: pr.head.sha, headRef: pr.head.ref, baseRef: pr.base.ref }));
}

function checkSuiteRequest(p: z.infer<typeof checkSuiteEvent>): CheckSuiteRequest {
  const suite = p.check_suite;
  return {
    kind: "check-suite",
    ...origin(p),
    action: p.action,
    checkSuiteId: suite.id,
    headSha: suite.head_sha,
    headBranch: suite.head_branch,
    pullRequests: linkedPulls(suite.pull_requests),
  };
}

function checkRun(p: z.infer<typeof checkRunEvent>): GitHubEvent {
  const run = p.check_run;
  const common = {
    ...origin(p),
    checkRunId: run.id,
    externalId: run.external_id || undefined,
    headSha: run.head_sha,
    pullRequests: linkedPulls(run.pull_requests),
  };
  if (p.action === "rerequested") return { kind: "check-run-rerequested", ...common };
  if (!p.requested_action) return ignored("check_run.requested_action has no requested_action");
  return { kind: "check-run-action", ...common, identifier: p.requested_action.identifier };
}

function issueComment(p: z.infer<typeof issueCommentEvent>): GitHubEvent {
  if (!p.issue.pull_request) return ignored("the comment is on an issue, not a pull request");
  // ktf's own replies (and other bots') are never commands: no loops between bots.
  if (p.sender.type === "Bot") return ignored(`the comment is by the bot ${p.sender.login}`);
  const parsedCommand = parseCommand(p.comment.body);
  if (!parsedCommand) return ignored("the comment is no ktf command");
  const common = { ...origin(p), number: p.issue.number, commentId: p.comment.id };
  if ("error" in parsedCommand) return { kind: "comment-error", ...common, reply: parsedCommand.error };
  return { kind: "comment-command", ...common, ...parsedCommand, authorAssociation: p.comment.author_association };
}

function ignored(reason: string): Ignored {
  return { kind: "ignored", reason };
}

function actionOf(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null || !("action" in payload)) return undefined;
  return typeof payload.action === "string" ? payload.action : undefined;
}

function hasInstallation(payload: unknown): boolean {
  return typeof payload === "object" && payload !== null && "installation" in payload && payload.installation != null;
}

const USAGE = "ktf understands `ktf plan` and `ktf apply`, each optionally followed by `-w namespace/name`";
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Reads a comment's first line as a ktf command: `ktf plan|apply [-w|--workspace ns/name]`.
 * Undefined when the comment does not start with `ktf ` (it is not meant for ktf); an
 * `error` to reply with when it does but is not a command ktf knows.
 */
export function parseCommand(body: string): { command: "plan" | "apply"; workspace: WorkspaceRef | undefined } | { error: string } | undefined {
  const line = body.trimStart().split(/\r?\n/, 1)[0]?.trim() ?? "";
  if (line !== "ktf" && !/^ktf\s/.test(line)) return undefined;
  const [, command, ...rest] = line.split(/\s+/);
  if (command === undefined) return { error: `\`ktf\` needs a command: ${USAGE}` };
  if (command !== "plan" && command !== "apply") return { error: `unknown command \`ktf ${command}\`: ${USAGE}` };

  let workspace: WorkspaceRef | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? "";
    let value: string | undefined;
    if (arg === "-w" || arg === "--workspace") value = rest[++i];
    else if (arg.startsWith("--workspace=")) value = arg.slice("--workspace=".length);
    else if (arg.startsWith("-")) return { error: `unknown option \`${arg}\` of \`ktf ${command}\`: ${USAGE}` };
    else return { error: `unexpected \`${arg}\` after \`ktf ${command}\`: ${USAGE}` };
    if (value === undefined || value === "") return { error: `\`${arg}\` needs a workspace, as in \`ktf ${command} -w namespace/name\`` };
    if (workspace) return { error: `name one workspace per command, not several: ${USAGE}` };
    const ref = workspaceRef(value);
    if (!ref) return { error: `\`${value}\` is not a workspace: write it as namespace/name, as in \`-w team-a/network\`` };
    workspace = ref;
  }
  return { command, workspace };
}

function workspaceRef(value: string): WorkspaceRef | undefined {
  const [namespace, name, ...extra] = value.split("/");
  if (namespace === undefined || name === undefined || extra.length > 0) return undefined;
  if (!DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}
