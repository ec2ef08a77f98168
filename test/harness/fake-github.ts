/**
 * A fake GitHub REST API for tests, over real HTTP on 127.0.0.1: exactly the calls ktf's
 * GitHub App makes, in GitHub's wire format (status codes, JSON shapes, `Link` pagination,
 * 302 to a codeload URL for tarballs, `{message, documentation_url}` errors). It checks the
 * App's JWT (RS256, iss, exp) on `/app` endpoints and its own installation tokens elsewhere.
 * Repositories are real git repositories the test makes with `GitRepository`.
 */
import { execFile } from "node:child_process";
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { WebhookEventMap, WebhookEventName } from "@octokit/webhooks-types";
import type { WebhookDefinition } from "@octokit/webhooks-examples";

const run = promisify(execFile);

// The package's main is GitHub's own examples, as JSON.
const webhookDefinitions = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve("@octokit/webhooks-examples"), "utf8"),
) as WebhookDefinition[];

/** A git repository in a temporary directory, with commits made from file maps. */
export class GitRepository {
  private constructor(readonly dir: string) {}

  static async create(): Promise<GitRepository> {
    const dir = await mkdtemp(join(tmpdir(), "ktf-git-"));
    const repo = new GitRepository(dir);
    await repo.git("init", "-q", "-b", "main");
    return repo;
  }

  /** Runs git in the repository, with a fixed identity and no user configuration. */
  async git(...args: string[]): Promise<string> {
    const env = {
      ...process.env,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    };
    const { stdout } = await run("git", ["-C", this.dir, ...args], { env, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" });
    return stdout;
  }

  /**
   * Commits on `branch` (created from `from`, default the current HEAD, when new): each path
   * is written (null deletes it; a value starting with "symlink:" makes a symlink). Returns the sha.
   */
  async commit(branch: string, files: Record<string, string | null>, options: { from?: string; message?: string } = {}): Promise<string> {
    const exists = await this.git("rev-parse", "--verify", "-q", `refs/heads/${branch}`).then(
      () => true,
      () => false,
    );
    const hasHead = await this.git("rev-parse", "--verify", "-q", "HEAD").then(
      () => true,
      () => false,
    );
    if (exists) await this.git("checkout", "-q", branch);
    else if (hasHead) await this.git("checkout", "-q", "-b", branch, ...(options.from ? [options.from] : []));
    else await this.git("checkout", "-q", "--orphan", branch);
    for (const [path, content] of Object.entries(files)) {
      const abs = join(this.dir, path);
      if (content === null) {
        await this.git("rm", "-q", "--", path);
        continue;
      }
      await mkdir(dirname(abs), { recursive: true });
      await rm(abs, { force: true });
      if (content.startsWith("symlink:")) {
        await symlink(content.slice("symlink:".length), abs);
      } else await writeFile(abs, content);
      await this.git("add", "--", path);
    }
    await this.git("commit", "-q", "--allow-empty", "-m", options.message ?? `commit on ${branch}`);
    return (await this.git("rev-parse", "HEAD")).trim();
  }

  /** Moves a file in a commit on `branch` (git sees a rename). */
  async rename(branch: string, from: string, to: string): Promise<string> {
    await this.git("checkout", "-q", branch);
    await mkdir(dirname(join(this.dir, to)), { recursive: true });
    await this.git("mv", from, to);
    await this.git("commit", "-q", "-m", `move ${from} to ${to}`);
    return (await this.git("rev-parse", "HEAD")).trim();
  }

  /** The full sha of a ref, or undefined when it names no commit. */
  async resolve(ref: string): Promise<string | undefined> {
    if (ref.startsWith("-")) return undefined;
    return this.git("rev-parse", "--verify", "-q", `${ref}^{commit}`).then(
      (out) => out.trim(),
      () => undefined,
    );
  }

  /** `git archive` as GitHub makes its tarballs: gzipped, under one `prefix/` directory. */
  async archive(sha: string, prefix: string): Promise<Buffer> {
    const { stdout } = await run("git", ["-C", this.dir, "archive", "--format=tar.gz", `--prefix=${prefix}/`, sha], {
      encoding: "buffer",
      maxBuffer: 512 * 1024 * 1024,
    });
    return stdout;
  }

  /** The files changed between the merge base of base and head, and head (`git diff base...head`). */
  async changedFiles(base: string, head: string): Promise<FakePullFile[]> {
    const out = await this.git("diff", "--name-status", "-M", "-z", `${base}...${head}`);
    const fields = out.split("\0").filter((f) => f !== "");
    const files: FakePullFile[] = [];
    for (let i = 0; i < fields.length; ) {
      const code = fields[i++] ?? "";
      const letter = code[0] ?? "M";
      if (letter === "R" || letter === "C") {
        const previous = fields[i++] ?? "";
        const filename = fields[i++] ?? "";
        files.push({ filename, status: letter === "R" ? "renamed" : "copied", previous_filename: previous });
      } else {
        const filename = fields[i++] ?? "";
        files.push({ filename, status: STATUS[letter] ?? "modified" });
      }
    }
    return files;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

const STATUS: Record<string, string> = { A: "added", D: "removed", M: "modified", T: "changed" };

export interface FakePullFile {
  filename: string;
  status: string;
  previous_filename?: string;
}

export interface FakeRepository {
  /** "owner/repo" */
  fullName: string;
  git: GitRepository;
  installationId: number;
}

export interface FakePull {
  repository: string;
  number: number;
  /** Branch names in the repository's git; the shas are read from git at each request. */
  headRef: string;
  baseRef: string;
  /** "owner/repo" of the head when it is a fork (its commits live in the same git repository). */
  headRepository?: string | null;
  author: string;
  draft?: boolean;
  state?: "open" | "closed";
  mergeable?: boolean | null;
  mergeableState?: string;
}

export interface FakeReview {
  id: number;
  user: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  commitId: string;
  submittedAt: string;
}

/** A check run as the fake holds it, with every create and update body received. */
export interface FakeCheckRun {
  id: number;
  repository: string;
  name: string;
  head_sha: string;
  status: string;
  conclusion: string | null;
  external_id: string;
  details_url: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  actions: { label: string; description: string; identifier: string }[];
  history: { method: "POST" | "PATCH"; body: Record<string, unknown> }[];
}

export interface FakeComment {
  id: number;
  repository: string;
  issueNumber: number;
  body: string;
  user: string;
}

export interface FakeRequest {
  method: string;
  path: string;
  /** What authenticated it: the App's JWT, an installation token, or nothing. */
  auth: "jwt" | "token" | "none";
  installationId?: number;
  status: number;
}

export interface IssuedToken {
  token: string;
  installationId: number;
  expiresAt: number;
}

export interface FakeGitHubOptions {
  appId?: number;
  slug?: string;
  /** The clock installation tokens expire by (JWTs are checked against the real time, as GitHub does). */
  now?: () => number;
  /** How long an installation token lives (GitHub: one hour). */
  tokenTtlMs?: number;
  /** Items per page when the client sends no per_page (GitHub: 30). */
  defaultPerPage?: number;
}

const DOCS = "https://docs.github.com/rest";
const MAX_OUTPUT_CHARS = 65_535;

/** Thrown by a route to answer with GitHub's error shape. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl = DOCS,
  ) {
    super(message);
  }
}

export class FakeGitHub {
  readonly appId: number;
  readonly slug: string;
  /** The App's private key, PKCS#1 PEM as GitHub hands it out. */
  readonly privateKey: string;
  readonly publicKey: KeyObject;
  readonly repositories = new Map<string, FakeRepository>();
  readonly pulls: FakePull[] = [];
  readonly reviews = new Map<string, FakeReview[]>();
  readonly checkRuns: FakeCheckRun[] = [];
  readonly comments: FakeComment[] = [];
  readonly requests: FakeRequest[] = [];
  readonly tokens: IssuedToken[] = [];
  /** Manifest codes the flow would hand out, and the App each one creates. */
  readonly manifestCodes = new Map<string, Record<string, unknown>>();
  private readonly codeloadTokens = new Map<string, { repository: string; sha: string }>();
  private readonly now: () => number;
  private readonly options: FakeGitHubOptions;
  private server: Server | undefined;
  private port = 0;
  private nextId = 1000;

  private constructor(options: FakeGitHubOptions) {
    this.options = options;
    this.appId = options.appId ?? 4242;
    this.slug = options.slug ?? "ktf-test";
    this.now = options.now ?? Date.now;
    const pair = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    this.privateKey = pair.privateKey;
    this.publicKey = createPublicKey(pair.publicKey);
  }

  static async start(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const fake = new FakeGitHub(options);
    const server = createServer((req, res) => fake.serve(req, res));
    await new Promise<void>((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
    fake.server = server;
    fake.port = (server.address() as AddressInfo).port;
    return fake;
  }

  /** The REST API root, for the client's baseUrl. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  addRepository(fullName: string, git: GitRepository, installationId: number): FakeRepository {
    const repo = { fullName, git, installationId };
    this.repositories.set(fullName.toLowerCase(), repo);
    return repo;
  }

  addPull(pull: FakePull): FakePull {
    this.pulls.push(pull);
    return pull;
  }

  addReview(repository: string, number: number, review: Omit<FakeReview, "id" | "submittedAt">): FakeReview {
    const key = `${repository.toLowerCase()}#${number}`;
    const full = { ...review, id: this.id(), submittedAt: new Date(this.now()).toISOString() };
    this.reviews.set(key, [...(this.reviews.get(key) ?? []), full]);
    return full;
  }

  /** Makes every token issued so far expired. */
  expireTokens(): void {
    for (const t of this.tokens) t.expiresAt = this.now() - 1;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  private id(): number {
    return this.nextId++;
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const record: FakeRequest = { method: req.method ?? "GET", path: new URL(req.url ?? "/", this.url).pathname, auth: "none", status: 0 };
    this.requests.push(record);
    this.route(req, res, record).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      record.status = status;
      json(res, status, { message, documentation_url: err instanceof HttpError ? err.documentationUrl : DOCS });
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, record: FakeRequest): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const path = url.pathname;
    const method = req.method ?? "GET";
    const body = method === "POST" || method === "PATCH" ? await readJson(req) : {};
    const send = (status: number, doc: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      json(res, status, doc, headers);
    };
    let m: RegExpExecArray | null;

    if (method === "GET" && (m = /^\/_codeload\/([^/]+\/[^/]+)\/legacy\.tar\.gz\/([0-9a-f]{40})$/.exec(path))) {
      return this.codeload(res, record, m[1] ?? "", m[2] ?? "", url.searchParams.get("token") ?? "");
    }
    if (method === "POST" && (m = /^\/app-manifests\/([^/]+)\/conversions$/.exec(path))) {
      const app = this.manifestCodes.get(decodeURIComponent(m[1] ?? ""));
      if (!app) throw new HttpError(404, "Not Found");
      this.manifestCodes.delete(decodeURIComponent(m[1] ?? ""));
      return send(201, app);
    }
    if (method === "POST" && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
      this.checkJwt(req, record);
      const installationId = Number(m[1]);
      if (![...this.repositories.values()].some((r) => r.installationId === installationId)) throw new HttpError(404, "Not Found");
      const issued = { token: `ghs_${randomBytes(18).toString("hex")}`, installationId, expiresAt: this.now() + (this.options.tokenTtlMs ?? 3600_000) };
      this.tokens.push(issued);
      return send(201, {
        token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: { checks: "write", contents: "read", issues: "write", pull_requests: "read", metadata: "read" },
        repository_selection: "selected",
      });
    }
    if (method === "GET" && (m = /^\/repos\/([^/]+\/[^/]+)\/installation$/.exec(path))) {
      this.checkJwt(req, record);
      const repo = this.repositories.get((m[1] ?? "").toLowerCase());
      if (!repo) throw new HttpError(404, "Not Found", `${DOCS}/apps/apps#get-a-repository-installation-for-the-authenticated-app`);
      const owner = repo.fullName.split("/")[0] ?? "";
      return send(200, {
        id: repo.installationId,
        app_id: this.appId,
        app_slug: this.slug,
        target_type: "Organization",
        account: { login: owner, type: "Organization" },
        repository_selection: "selected",
      });
    }

    m = /^\/repos\/([^/]+\/[^/]+)(\/.*)$/.exec(path);
    if (!m) throw new HttpError(404, "Not Found");
    const repo = this.repoForToken(req, record, m[1] ?? "");
    const rest = m[2] ?? "";
    let r: RegExpExecArray | null;

    if (method === "POST" && rest === "/check-runs") return send(201, await this.createCheckRun(repo, body));
    if (method === "PATCH" && (r = /^\/check-runs\/(\d+)$/.exec(rest))) return send(200, this.updateCheckRun(repo, Number(r[1]), body));
    if (method === "GET" && (r = /^\/pulls\/(\d+)$/.exec(rest))) return send(200, await this.pullJson(repo, this.pull(repo, Number(r[1]))));
    if (method === "GET" && (r = /^\/pulls\/(\d+)\/files$/.exec(rest))) {
      const pull = this.pull(repo, Number(r[1]));
      const files = await repo.git.changedFiles(pull.baseRef, pull.headRef);
      // GitHub lists at most 3000 files of a pull request.
      return this.page(res, record, url, files.slice(0, 3000).map((f) => ({ sha: "0".repeat(40), additions: 0, deletions: 0, changes: 0, ...f })));
    }
    if (method === "GET" && (r = /^\/pulls\/(\d+)\/reviews$/.exec(rest))) {
      const pull = this.pull(repo, Number(r[1]));
      const reviews = this.reviews.get(`${repo.fullName.toLowerCase()}#${pull.number}`) ?? [];
      return this.page(
        res,
        record,
        url,
        reviews.map((v) => ({ id: v.id, user: { login: v.user, type: "User" }, body: "", state: v.state, commit_id: v.commitId, submitted_at: v.submittedAt, author_association: "MEMBER" })),
      );
    }
    if (method === "GET" && (r = /^\/tarball\/(.+)$/.exec(rest))) {
      const sha = await repo.git.resolve(decodeURIComponent(r[1] ?? ""));
      if (!sha) throw new HttpError(404, "Not Found", `${DOCS}/repos/contents#download-a-repository-archive-tar`);
      const token = randomBytes(16).toString("hex");
      this.codeloadTokens.set(token, { repository: repo.fullName, sha });
      record.status = 302;
      res.writeHead(302, { Location: `${this.url}/_codeload/${repo.fullName}/legacy.tar.gz/${sha}?token=${token}`, "Content-Length": "0" });
      res.end();
      return;
    }
    if (method === "POST" && (r = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      if (typeof body.body !== "string" || body.body === "") throw new HttpError(422, "Invalid request.\n\n\"body\" wasn't supplied.");
      const number = Number(r[1]);
      if (!this.pulls.some((p) => p.repository.toLowerCase() === repo.fullName.toLowerCase() && p.number === number)) throw new HttpError(404, "Not Found");
      const comment = { id: this.id(), repository: repo.fullName, issueNumber: number, body: body.body, user: `${this.slug}[bot]` };
      this.comments.push(comment);
      return send(201, {
        id: comment.id,
        body: comment.body,
        user: { login: comment.user, type: "Bot" },
        html_url: `https://github.com/${repo.fullName}/pull/${number}#issuecomment-${comment.id}`,
        created_at: new Date(this.now()).toISOString(),
      });
    }
    throw new HttpError(404, "Not Found");
  }

  /** An App JWT: RS256 under the App's key, iss the App ID, valid now, expiring within 10 minutes. */
  private checkJwt(req: IncomingMessage, record: FakeRequest): void {
    const credential = credentialOf(req);
    const parts = credential?.split(".") ?? [];
    const [header, payload, signature] = parts;
    if (parts.length !== 3 || !header || !payload || !signature) throw new HttpError(401, "A JSON web token could not be decoded");
    const head = parseJsonPart(header);
    if (head?.alg !== "RS256") throw new HttpError(401, "A JSON web token could not be decoded");
    const good = verify("sha256", Buffer.from(`${header}.${payload}`), this.publicKey, Buffer.from(signature, "base64url"));
    if (!good) throw new HttpError(401, "A JSON web token could not be decoded");
    const claims = parseJsonPart(payload);
    const nowSeconds = Math.floor(Date.now() / 1000);
    if (String(claims?.iss) !== String(this.appId)) throw new HttpError(401, "A JSON web token could not be decoded");
    if (typeof claims?.iat !== "number" || claims.iat > nowSeconds + 60) throw new HttpError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.");
    if (typeof claims.exp !== "number" || claims.exp <= nowSeconds) throw new HttpError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.");
    if (claims.exp > nowSeconds + 600 + 60) throw new HttpError(401, "'Expiration time' claim ('exp') is too far in the future.");
    record.auth = "jwt";
  }

  /** The repository, when the request carries a live token of the installation that covers it. */
  private repoForToken(req: IncomingMessage, record: FakeRequest, fullName: string): FakeRepository {
    const credential = credentialOf(req);
    const issued = this.tokens.find((t) => t.token === credential);
    if (!issued || issued.expiresAt <= this.now()) throw new HttpError(401, "Bad credentials");
    record.auth = "token";
    record.installationId = issued.installationId;
    const repo = this.repositories.get(fullName.toLowerCase());
    // GitHub answers 404, not 403, for a repository the token cannot see.
    if (!repo || repo.installationId !== issued.installationId) throw new HttpError(404, "Not Found");
    return repo;
  }

  private pull(repo: FakeRepository, number: number): FakePull {
    const pull = this.pulls.find((p) => p.repository.toLowerCase() === repo.fullName.toLowerCase() && p.number === number);
    if (!pull) throw new HttpError(404, "Not Found", `${DOCS}/pulls/pulls#get-a-pull-request`);
    return pull;
  }

  private async pullJson(repo: FakeRepository, pull: FakePull): Promise<Record<string, unknown>> {
    const headSha = await repo.git.resolve(pull.headRef);
    const baseSha = await repo.git.resolve(pull.baseRef);
    const files = await repo.git.changedFiles(pull.baseRef, pull.headRef);
    const headRepository = pull.headRepository === undefined ? repo.fullName : pull.headRepository;
    const repoJson = (fullName: string) => ({ full_name: fullName, name: fullName.split("/")[1], owner: { login: fullName.split("/")[0] } });
    return {
      number: pull.number,
      state: pull.state ?? "open",
      draft: pull.draft ?? false,
      merged: false,
      title: `Pull request ${pull.number}`,
      user: { login: pull.author, type: "User" },
      html_url: `https://github.com/${repo.fullName}/pull/${pull.number}`,
      head: { ref: pull.headRef, sha: headSha, label: `${(headRepository ?? "unknown").split("/")[0]}:${pull.headRef}`, repo: headRepository ? repoJson(headRepository) : null },
      base: { ref: pull.baseRef, sha: baseSha, label: `${repo.fullName.split("/")[0]}:${pull.baseRef}`, repo: repoJson(repo.fullName) },
      mergeable: pull.mergeable === undefined ? true : pull.mergeable,
      mergeable_state: pull.mergeableState ?? "clean",
      changed_files: files.length,
    };
  }

  /** One page of `items` by `page` and `per_page` (at most 100), with GitHub's Link header. */
  private page(res: ServerResponse, record: FakeRequest, url: URL, items: unknown[]): void {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? this.options.defaultPerPage ?? 30)));
    const page = Math.max(1, Number(url.searchParams.get("page") ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number) => {
      const u = new URL(url);
      u.searchParams.set("per_page", String(perPage));
      u.searchParams.set("page", String(p));
      return u.toString();
    };
    const links: string[] = [];
    if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < last) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) links.push(`<${link(1)}>; rel="first"`);
    record.status = 200;
    json(res, 200, items.slice((page - 1) * perPage, page * perPage), links.length > 0 ? { Link: links.join(", ") } : {});
  }

  private async createCheckRun(repo: FakeRepository, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (typeof body.name !== "string" || body.name === "") throw new HttpError(422, "Invalid request.\n\n\"name\" wasn't supplied.");
    if (typeof body.head_sha !== "string" || !(await repo.git.resolve(body.head_sha)) || (await repo.git.resolve(body.head_sha)) !== body.head_sha) {
      throw new HttpError(422, "No commit found for SHA: " + String(body.head_sha));
    }
    const checkRun: FakeCheckRun = {
      id: this.id(),
      repository: repo.fullName,
      name: body.name,
      head_sha: body.head_sha,
      status: "queued",
      conclusion: null,
      external_id: "",
      details_url: null,
      started_at: null,
      completed_at: null,
      output: { title: null, summary: null, text: null },
      actions: [],
      history: [],
    };
    this.applyCheckRunFields(checkRun, body);
    checkRun.history.push({ method: "POST", body });
    this.checkRuns.push(checkRun);
    return this.checkRunJson(checkRun);
  }

  private updateCheckRun(repo: FakeRepository, id: number, body: Record<string, unknown>): Record<string, unknown> {
    const checkRun = this.checkRuns.find((c) => c.id === id && c.repository === repo.fullName);
    if (!checkRun) throw new HttpError(404, "Not Found", `${DOCS}/checks/runs#update-a-check-run`);
    this.applyCheckRunFields(checkRun, body);
    checkRun.history.push({ method: "PATCH", body });
    return this.checkRunJson(checkRun);
  }

  /** Validates as GitHub does (the 422s ktf could cause), then applies. */
  private applyCheckRunFields(checkRun: FakeCheckRun, body: Record<string, unknown>): void {
    const status = typeof body.status === "string" ? body.status : undefined;
    const conclusion = typeof body.conclusion === "string" ? body.conclusion : undefined;
    if (status && !["queued", "in_progress", "completed"].includes(status)) throw new HttpError(422, `Invalid request.\n\n${status} is not a member of ["queued", "in_progress", "completed"].`);
    if (status === "completed" && !conclusion && !checkRun.conclusion) throw new HttpError(422, "Invalid request.\n\nNo subschema in \"anyOf\" matched.\n\"conclusion\" wasn't supplied.");
    const output = body.output as { title?: unknown; summary?: unknown; text?: unknown } | undefined;
    if (output !== undefined) {
      if (typeof output.title !== "string" || typeof output.summary !== "string") throw new HttpError(422, "Invalid request.\n\n\"title\", \"summary\" weren't supplied.");
      for (const field of ["summary", "text"] as const) {
        const value = output[field];
        if (typeof value === "string" && value.length > MAX_OUTPUT_CHARS) {
          throw new HttpError(422, `Invalid request.\n\nOnly ${MAX_OUTPUT_CHARS} characters are allowed; ${value.length} were supplied.`);
        }
      }
      checkRun.output = { title: output.title, summary: output.summary, text: typeof output.text === "string" ? output.text : null };
    }
    const actions = body.actions as FakeCheckRun["actions"] | undefined;
    if (actions !== undefined) {
      if (!Array.isArray(actions) || actions.length > 3) throw new HttpError(422, "Invalid request.\n\nActions: no more than 3 are allowed.");
      for (const a of actions) {
        if (a.label.length > 20 || a.identifier.length > 20 || a.description.length > 40) throw new HttpError(422, "Invalid request.\n\nAn action's label, identifier or description is too long.");
      }
      checkRun.actions = actions;
    }
    if (conclusion) {
      checkRun.conclusion = conclusion;
      checkRun.status = "completed";
      checkRun.completed_at ??= new Date(this.now()).toISOString();
    }
    if (status) checkRun.status = status;
    if (typeof body.external_id === "string") checkRun.external_id = body.external_id;
    if (typeof body.details_url === "string") checkRun.details_url = body.details_url;
    if (typeof body.started_at === "string") checkRun.started_at = body.started_at;
    if (typeof body.completed_at === "string") checkRun.completed_at = body.completed_at;
  }

  private checkRunJson(c: FakeCheckRun): Record<string, unknown> {
    return {
      id: c.id,
      node_id: `CR_${c.id}`,
      name: c.name,
      head_sha: c.head_sha,
      external_id: c.external_id,
      url: `${this.url}/repos/${c.repository}/check-runs/${c.id}`,
      html_url: `https://github.com/${c.repository}/runs/${c.id}`,
      details_url: c.details_url,
      status: c.status,
      conclusion: c.conclusion,
      started_at: c.started_at,
      completed_at: c.completed_at,
      output: { ...c.output, annotations_count: 0, annotations_url: `${this.url}/repos/${c.repository}/check-runs/${c.id}/annotations` },
      check_suite: { id: 1 },
      app: { id: this.appId, slug: this.slug },
      pull_requests: [],
    };
  }

  /** codeload.github.com: the redirect's token is the only credential, as on GitHub. */
  private async codeload(res: ServerResponse, record: FakeRequest, fullName: string, sha: string, token: string): Promise<void> {
    const grant = this.codeloadTokens.get(token);
    if (!grant || grant.repository !== fullName || grant.sha !== sha) throw new HttpError(404, "Not Found");
    this.codeloadTokens.delete(token);
    const repo = this.repositories.get(fullName.toLowerCase());
    if (!repo) throw new HttpError(404, "Not Found");
    const prefix = `${fullName.replace("/", "-")}-${sha.slice(0, 7)}`;
    const bytes = await repo.git.archive(sha, prefix);
    record.status = 200;
    res.writeHead(200, {
      "Content-Type": "application/x-gzip",
      "Content-Disposition": `attachment; filename=${prefix}.tar.gz`,
      "Content-Length": String(bytes.length),
    });
    res.end(bytes);
  }
}

/** The credential of `Authorization: token X` or `Bearer X`. */
function credentialOf(req: IncomingMessage): string | undefined {
  const m = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  return m?.[1];
}

function parseJsonPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  if (text === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, "Problems parsing JSON");
}

function json(res: ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(doc);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    "X-GitHub-Media-Type": "github.v3; format=json",
    ...headers,
  });
  res.end(body);
}

/**
 * A real webhook payload from @octokit/webhooks-examples (GitHub's own examples), deep-copied
 * so that a test may change it: the `index`th example of `event` with `action`.
 */
export function webhookExample<E extends WebhookEventName>(event: E, action?: string, index = 0): WebhookEventMap[E] {
  const definition = webhookDefinitions.find((d) => d.name === event);
  const examples = (definition?.examples ?? []).filter((e) => action === undefined || ("action" in e && e.action === action));
  const example = examples[index];
  if (!example) throw new Error(`@octokit/webhooks-examples has no ${event}${action ? `.${action}` : ""} example #${index}`);
  return JSON.parse(JSON.stringify(example)) as WebhookEventMap[E];
}
