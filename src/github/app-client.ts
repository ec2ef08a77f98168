import { createPrivateKey } from "node:crypto";
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { request as octokitRequest } from "@octokit/request";
import { RequestError } from "@octokit/request-error";
import { GitHubApiError, GitHubAuthError, GitHubConnectionError, KtfError, UsageError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { KTF_VERSION } from "../version.js";

export type Fetch = typeof globalThis.fetch;

export const GITHUB_API_URL = "https://api.github.com";

/** Installation tokens live an hour; ktf takes a new one this long before its expiry. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** A tarball bigger than this is refused before it is all in memory (compressed bytes). */
export const MAX_TARBALL_BYTES = 512 * 1024 * 1024;

export interface GitHubAppOptions {
  appId: number | string;
  /** The App's private key, PEM (as GitHub hands it out, PKCS#1 or PKCS#8). */
  privateKey: string;
  /** The REST API root: `https://HOST/api/v3` for GitHub Enterprise Server. */
  baseUrl?: string;
  fetch?: Fetch;
  logger: Logger;
  /** The clock the token cache judges expiry by. */
  now?: () => number;
  /** How long before an installation token's expiry a new one is taken (default 5 min). */
  tokenRefreshMarginMs?: number;
  /** Per request; the tarball download gets four times this (default 30 s). */
  timeoutMs?: number;
}

/** The octokit class ktf uses: core plus pagination, no other plugins. */
const KtfOctokit = Octokit.plugin(paginateRest);
type KtfOctokit = InstanceType<typeof KtfOctokit>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * A GitHub App: its JWT for `/app` calls, and installation tokens (cached per installation,
 * renewed `tokenRefreshMarginMs` before they expire) for the calls ktf makes in a repository.
 * No token or key is ever logged or put in an error message.
 */
export class GitHubApp {
  readonly appId: string;
  private readonly options: GitHubAppOptions;
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly tokens = new Map<number, CachedToken>();
  private readonly pending = new Map<number, Promise<CachedToken>>();
  private readonly now: () => number;

  constructor(options: GitHubAppOptions) {
    this.appId = String(options.appId);
    this.options = options;
    this.now = options.now ?? Date.now;
    checkPrivateKey(this.appId, options.privateKey);
    this.auth = createAppAuth({
      appId: this.appId,
      privateKey: options.privateKey,
      request: octokitRequest.defaults({ baseUrl: this.baseUrl, request: { fetch: options.fetch ?? globalThis.fetch } }),
      // ktf keeps the tokens itself, with its own clock and margin.
      cache: { get: () => "", set: () => undefined },
    });
  }

  get baseUrl(): string {
    return (this.options.baseUrl ?? GITHUB_API_URL).replace(/\/+$/, "");
  }

  /** The calls ktf makes in the repositories of one installation, as that installation. */
  forInstallation(installationId: number): InstallationApi {
    const authorization = async (refresh: boolean) => `token ${await this.installationToken(installationId, refresh)}`;
    return new InstallationApi(this.octokit(authorization, { renewOn401: true }), installationId);
  }

  /** The id of the App's installation that covers owner/repo (GET /repos/{owner}/{repo}/installation). */
  async findInstallation(owner: string, repo: string): Promise<number> {
    const octokit = this.octokit(async () => `bearer ${await this.jwt()}`, { renewOn401: false });
    const request = `GET /repos/${owner}/${repo}/installation`;
    const { data } = await call(request, () => octokit.request("GET /repos/{owner}/{repo}/installation", { owner, repo }), {
      notFound: `GitHub App ${this.appId} is not installed on ${owner}/${repo}: install it there, or give it access to the repository`,
      unauthorized: this.jwtRefused(request),
    });
    return data.id;
  }

  /** An installation token, from the cache while it has more than the margin left. */
  private async installationToken(installationId: number, refresh = false): Promise<string> {
    const margin = this.options.tokenRefreshMarginMs ?? TOKEN_REFRESH_MARGIN_MS;
    const cached = this.tokens.get(installationId);
    if (!refresh && cached && cached.expiresAt - margin > this.now()) return cached.token;
    // Concurrent callers share one request for a new token.
    let pending = this.pending.get(installationId);
    if (!pending) {
      pending = this.newInstallationToken(installationId).finally(() => this.pending.delete(installationId));
      this.pending.set(installationId, pending);
    }
    return (await pending).token;
  }

  private async newInstallationToken(installationId: number): Promise<CachedToken> {
    const request = `POST /app/installations/${installationId}/access_tokens`;
    const auth = await call(request, () => this.auth({ type: "installation", installationId, refresh: true }), {
      notFound: `GitHub App ${this.appId} has no installation ${installationId}: was it uninstalled?`,
      unauthorized: this.jwtRefused(request),
    });
    const token = { token: auth.token, expiresAt: Date.parse(auth.expiresAt) };
    this.tokens.set(installationId, token);
    this.options.logger.debug({ installationId, expiresAt: auth.expiresAt }, "Took a new GitHub installation token");
    return token;
  }

  private async jwt(): Promise<string> {
    try {
      return (await this.auth({ type: "app" })).token;
    } catch (err) {
      throw new GitHubAuthError(0, "JWT", `the JWT of GitHub App ${this.appId} cannot be made: ${errorMessage(err)}`);
    }
  }

  private jwtRefused(request: string): string {
    return `GitHub refused the JWT of App ${this.appId} (401 to ${request}): check the App ID and that the private key is that App's (keys can be revoked on the App's settings page)`;
  }

  private octokit(authorization: (refresh: boolean) => Promise<string>, options: { renewOn401: boolean }): KtfOctokit {
    const octokit = new KtfOctokit({
      baseUrl: this.baseUrl,
      userAgent: `ktf/${KTF_VERSION}`,
      request: { fetch: this.options.fetch ?? globalThis.fetch },
      log: octokitLog(this.options.logger),
    });
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    octokit.hook.wrap("request", async (request, endpoint) => {
      const send = async (refresh: boolean) => {
        const headers = { ...endpoint.headers, authorization: await authorization(refresh) };
        const timeout = endpoint.url.includes("/tarball/") ? timeoutMs * 4 : timeoutMs;
        return request({ ...endpoint, headers, request: { ...endpoint.request, signal: AbortSignal.timeout(timeout) } });
      };
      try {
        return await send(false);
      } catch (err) {
        // A token revoked before its time (the App's permissions changed): one retry with a new one.
        if (options.renewOn401 && err instanceof RequestError && err.status === 401) return send(true);
        throw err;
      }
    });
    return octokit;
  }
}

/** A check run's `output`. */
export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
}

/** A button on a check run; GitHub allows three, label ≤ 20, identifier ≤ 20, description ≤ 40 characters. */
export interface CheckRunAction {
  label: string;
  description: string;
  identifier: string;
}

export type CheckRunStatus = "queued" | "in_progress" | "completed";
export type CheckRunConclusion = "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required";

export interface CheckRunUpdate {
  status?: CheckRunStatus;
  conclusion?: CheckRunConclusion;
  /** What ktf finds the check run by again: the Run's namespace/name. */
  externalId?: string;
  detailsUrl?: string;
  startedAt?: Date;
  completedAt?: Date;
  output?: CheckRunOutput;
  /** Replaces the buttons; an empty list removes them. */
  actions?: CheckRunAction[];
}

export interface NewCheckRun extends CheckRunUpdate {
  name: string;
  headSha: string;
}

export interface CheckRun {
  id: number;
  htmlUrl: string | null;
  status: string;
  conclusion: string | null;
}

export interface PullRequest {
  number: number;
  state: string;
  draft: boolean;
  merged: boolean;
  headSha: string;
  headRef: string;
  baseRef: string;
  /** "owner/repo"; undefined when the fork is gone. */
  headRepository: string | undefined;
  baseRepository: string;
  /** null while GitHub is still computing it. */
  mergeable: boolean | null;
  /** "clean", "blocked", "behind", "dirty", "unstable", "has_hooks", "unknown", "draft". */
  mergeableState: string;
  /** How many files GitHub says changed: listPullFiles stops at 3000. */
  changedFiles: number;
  author: string | undefined;
}

export interface PullFile {
  filename: string;
  /** "added", "removed", "modified", "renamed", "copied", "changed", "unchanged". */
  status: string;
  previousFilename?: string;
}

export interface Review {
  id: number;
  user: string | undefined;
  /** "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING". */
  state: string;
  commitId: string | null;
  submittedAt: string | undefined;
}

/** The calls ktf makes in an installation's repositories. */
export class InstallationApi {
  constructor(
    private readonly octokit: KtfOctokit,
    readonly installationId: number,
  ) {}

  /** POST /repos/{owner}/{repo}/check-runs */
  async createCheckRun(owner: string, repo: string, run: NewCheckRun): Promise<CheckRun> {
    const { data } = await call(`POST /repos/${owner}/${repo}/check-runs`, () =>
      this.octokit.request("POST /repos/{owner}/{repo}/check-runs", { owner, repo, name: run.name, head_sha: run.headSha, ...checkRunFields(run) }),
    );
    return { id: Number(data.id), htmlUrl: data.html_url, status: data.status, conclusion: data.conclusion };
  }

  /** PATCH /repos/{owner}/{repo}/check-runs/{check_run_id} */
  async updateCheckRun(owner: string, repo: string, checkRunId: number, update: CheckRunUpdate): Promise<CheckRun> {
    const { data } = await call(`PATCH /repos/${owner}/${repo}/check-runs/${checkRunId}`, () =>
      this.octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { owner, repo, check_run_id: checkRunId, ...checkRunFields(update) }),
    );
    return { id: Number(data.id), htmlUrl: data.html_url, status: data.status, conclusion: data.conclusion };
  }

  /** GET /repos/{owner}/{repo}/pulls/{pull_number} */
  async getPull(owner: string, repo: string, number: number): Promise<PullRequest> {
    const { data } = await call(`GET /repos/${owner}/${repo}/pulls/${number}`, () =>
      this.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner, repo, pull_number: number }),
    );
    return {
      number: data.number,
      state: data.state,
      draft: data.draft ?? false,
      merged: data.merged,
      headSha: data.head.sha,
      headRef: data.head.ref,
      baseRef: data.base.ref,
      headRepository: data.head.repo?.full_name,
      baseRepository: data.base.repo.full_name,
      mergeable: data.mergeable,
      mergeableState: data.mergeable_state,
      changedFiles: data.changed_files,
      author: data.user.login,
    };
  }

  /** Every changed file of the PR, all pages (GitHub lists at most 3000). */
  async listPullFiles(owner: string, repo: string, number: number): Promise<PullFile[]> {
    const files = await call(`GET /repos/${owner}/${repo}/pulls/${number}/files`, () =>
      this.octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", { owner, repo, pull_number: number, per_page: 100 }),
    );
    return files.map((f) => ({ filename: f.filename, status: f.status, ...(f.previous_filename ? { previousFilename: f.previous_filename } : {}) }));
  }

  /** Every review of the PR, oldest first, all pages. */
  async listReviews(owner: string, repo: string, number: number): Promise<Review[]> {
    const reviews = await call(`GET /repos/${owner}/${repo}/pulls/${number}/reviews`, () =>
      this.octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", { owner, repo, pull_number: number, per_page: 100 }),
    );
    return reviews.map((r) => ({ id: Number(r.id), user: r.user?.login, state: r.state, commitId: r.commit_id, submittedAt: r.submitted_at }));
  }

  /**
   * The gzipped tarball of a commit (GET /repos/{owner}/{repo}/tarball/{ref}). GitHub answers
   * 302 to a short-lived codeload URL that carries its own token; fetch follows it and drops
   * the Authorization header on the way to the other host.
   */
  async downloadTarball(owner: string, repo: string, sha: string, maxBytes = MAX_TARBALL_BYTES): Promise<Buffer> {
    const request = `GET /repos/${owner}/${repo}/tarball/${sha}`;
    const { data } = await call(request, () =>
      this.octokit.request("GET /repos/{owner}/{repo}/tarball/{ref}", { owner, repo, ref: sha, request: { parseSuccessResponseBody: false } }),
    );
    return readLimited(data as ReadableStream<Uint8Array> | null, maxBytes, `the tarball of ${owner}/${repo}@${sha}`);
  }

  /** POST /repos/{owner}/{repo}/issues/{issue_number}/comments (a PR is an issue here). */
  async createIssueComment(owner: string, repo: string, number: number, body: string): Promise<{ id: number; htmlUrl: string }> {
    const { data } = await call(`POST /repos/${owner}/${repo}/issues/${number}/comments`, () =>
      this.octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: number, body }),
    );
    return { id: Number(data.id), htmlUrl: data.html_url };
  }
}

/**
 * The logins whose latest verdict on the PR is an approval: a later "changes requested" or a
 * dismissal takes an approval back, a plain comment does not.
 */
export function approvers(reviews: readonly Review[]): string[] {
  const verdicts = new Map<string, string>();
  for (const r of reviews) {
    if (r.user === undefined || r.state === "COMMENTED" || r.state === "PENDING") continue;
    verdicts.set(r.user, r.state);
  }
  return [...verdicts].filter(([, state]) => state === "APPROVED").map(([user]) => user);
}

/** What GitHub hands back when a manifest flow ends: the new App's credentials. */
export interface AppCredentials {
  id: number;
  slug: string;
  /** The private key, PEM. */
  pem: string;
  webhookSecret: string;
  clientId: string;
  clientSecret: string;
  htmlUrl: string;
}

/**
 * Ends GitHub's App manifest flow: trades the one-time `code` GitHub redirected with for the
 * new App's id, private key and webhook secret (POST /app-manifests/{code}/conversions, no
 * authentication). The code works once, within an hour.
 */
export async function createAppFromManifest(code: string, options: { baseUrl?: string; fetch?: Fetch } = {}): Promise<AppCredentials> {
  const octokit = new Octokit({
    baseUrl: (options.baseUrl ?? GITHUB_API_URL).replace(/\/+$/, ""),
    userAgent: `ktf/${KTF_VERSION}`,
    request: { fetch: options.fetch ?? globalThis.fetch },
  });
  const { data } = await call("POST /app-manifests/{code}/conversions", () => octokit.request("POST /app-manifests/{code}/conversions", { code }), {
    notFound: "GitHub does not know this manifest code: it works once and within an hour; create the App again",
  });
  if (!data.pem || !data.webhook_secret || !data.slug) throw new KtfError("GitHub created the App but did not return its private key, webhook secret and slug");
  return {
    id: data.id,
    slug: data.slug,
    pem: data.pem,
    webhookSecret: data.webhook_secret,
    clientId: data.client_id,
    clientSecret: data.client_secret,
    htmlUrl: data.html_url,
  };
}

function checkRunFields(run: CheckRunUpdate) {
  return {
    ...(run.status !== undefined ? { status: run.status } : {}),
    ...(run.conclusion !== undefined ? { conclusion: run.conclusion } : {}),
    ...(run.externalId !== undefined ? { external_id: run.externalId } : {}),
    ...(run.detailsUrl !== undefined ? { details_url: run.detailsUrl } : {}),
    ...(run.startedAt !== undefined ? { started_at: run.startedAt.toISOString() } : {}),
    ...(run.completedAt !== undefined ? { completed_at: run.completedAt.toISOString() } : {}),
    ...(run.output !== undefined ? { output: run.output } : {}),
    ...(run.actions !== undefined ? { actions: run.actions } : {}),
  };
}

/** Fails early, at start-up, on a key that is not an RSA private key at all. */
function checkPrivateKey(appId: string, pem: string): void {
  try {
    const key = createPrivateKey(pem.replace(/\\n/g, "\n"));
    if (key.asymmetricKeyType !== "rsa") throw new Error(`it is a ${key.asymmetricKeyType ?? "unknown"} key, GitHub Apps use RSA`);
  } catch (err) {
    throw new GitHubAuthError(0, "JWT", `the private key of GitHub App ${appId} is not an RSA private key in PEM: ${errorMessage(err)}; download a new one from the App's settings page`);
  }
}

interface Messages {
  notFound?: string;
  unauthorized?: string;
}

/** Runs one API call, turning octokit's errors into ktf's typed ones. */
async function call<T>(request: string, send: () => Promise<T>, messages: Messages = {}): Promise<T> {
  try {
    return await send();
  } catch (err) {
    throw apiError(request, err, messages);
  }
}

function apiError(request: string, err: unknown, messages: Messages): Error {
  if (err instanceof KtfError) return err;
  if (!(err instanceof RequestError)) {
    if (err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError")) return new GitHubConnectionError(`GitHub did not answer ${request} in time`, { cause: err });
    return new GitHubConnectionError(`${request} failed: ${errorMessage(err)}`, { cause: err });
  }
  // octokit reports a request that never got an answer as a 500 without a response.
  if (err.response === undefined) return new GitHubConnectionError(`GitHub could not be reached for ${request}: ${err.message}`);
  if (err.status === 401) return new GitHubAuthError(401, request, messages.unauthorized ?? `GitHub refused the installation token (401 to ${request})`);
  if (err.status === 404 && messages.notFound) return new GitHubApiError(404, request, messages.notFound);
  return new GitHubApiError(err.status, request, `GitHub answered ${err.status} to ${request}: ${err.message}`);
}

/** Reads a response body, refusing it once it passes `maxBytes`. */
async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number, what: string): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new UsageError(`${what} is over ${maxBytes} bytes: ktf does not plan repositories that big`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** Octokit's own warnings (deprecations) into ktf's log; its debug chatter dropped. */
function octokitLog(logger: Logger) {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => logger.warn({ source: "octokit" }, message),
    error: (message: string) => logger.error({ source: "octokit" }, message),
  };
}
