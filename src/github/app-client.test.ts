import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub, GitRepository } from "../../test/harness/fake-github.js";
import { packConfiguration } from "../archive/pack.js";
import { GitHubApiError, GitHubAuthError } from "../errors.js";
import { createLogger } from "../log.js";
import { GitHubApp, approvers, createAppFromManifest } from "./app-client.js";
import { planCheckOutput } from "./check-output.js";
import { configurationFromTarball } from "./tarball.js";

const INSTALLATION = 31337;
let clock = Date.now();
const now = () => clock;
let fake: FakeGitHub;
let git: GitRepository;
let mainSha: string;
let headSha: string;
const logs: string[] = [];

function app(options: { privateKey?: string; now?: () => number } = {}) {
  return new GitHubApp({
    appId: fake.appId,
    privateKey: options.privateKey ?? fake.privateKey,
    baseUrl: fake.url,
    now: options.now ?? now,
    logger: createLogger({ name: "github", level: "debug", destination: { write: (line: string) => logs.push(line) } }),
  });
}

const tokenRequests = () => fake.requests.filter((r) => r.path === `/app/installations/${INSTALLATION}/access_tokens`);

beforeAll(async () => {
  fake = await FakeGitHub.start({ now });
  git = await GitRepository.create();
  mainSha = await git.commit("main", {
    "envs/prod/main.tf": 'module "x" {\n  source = "../../modules/x"\n}\n',
    "envs/prod/.terraformignore": "*.log\n",
    "envs/prod/debug.log": "noise\n",
    "modules/x/main.tf": "# module\n",
    "old/name.tf": "# to be moved\n",
  });
  const many = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`envs/many/f${String(i).padStart(3, "0")}.tf`, `# ${i}\n`]));
  await git.commit("feature", { "envs/prod/main.tf": 'module "x" {\n  source = "../../modules/x"\n}\n# changed\n', ...many }, { from: "main" });
  headSha = await git.rename("feature", "old/name.tf", "new/name.tf");
  fake.addRepository("acme/infra", git, INSTALLATION);
  fake.addPull({ repository: "acme/infra", number: 7, headRef: "feature", baseRef: "main", author: "alice", mergeable: true, mergeableState: "blocked" });
});

afterAll(async () => {
  await fake.close();
  await git.remove();
});

describe("GitHubApp against the fake GitHub", () => {
  it("finds the installation of a repository with a JWT the fake verifies", async () => {
    expect(await app().findInstallation("acme", "infra")).toBe(INSTALLATION);
    expect(fake.requests.at(-1)).toMatchObject({ path: "/repos/acme/infra/installation", auth: "jwt", status: 200 });
    await expect(app().findInstallation("acme", "elsewhere")).rejects.toThrow(new GitHubApiError(404, "GET /repos/acme/elsewhere/installation", `GitHub App ${fake.appId} is not installed on acme/elsewhere: install it there, or give it access to the repository`));
  });

  it("creates and updates a check run with an output cut to GitHub's limit and an apply button", async () => {
    const api = app().forInstallation(INSTALLATION);
    const created = await api.createCheckRun("acme", "infra", { name: "ktf plan team-a/network", headSha, status: "in_progress", externalId: "team-a/plan-x7k2", startedAt: new Date(clock) });
    const hugePlan = Array.from({ length: 200_000 }, (_, i) => `  + resource "null_resource" "r${i}" {}`).join("\n") + "\nPlan: 200000 to add, 0 to change, 0 to destroy.";
    const output = planCheckOutput({ log: hugePlan, fullLogHint: "`ktf runs logs team-a/plan-x7k2` shows the whole log" });
    const updated = await api.updateCheckRun("acme", "infra", created.id, {
      conclusion: "success",
      output,
      actions: [{ label: "Apply", description: "Apply this plan", identifier: "apply" }],
    });
    expect(updated).toMatchObject({ id: created.id, status: "completed", conclusion: "success" });
    const recorded = fake.checkRuns.find((c) => c.id === created.id);
    expect(recorded).toMatchObject({
      name: "ktf plan team-a/network",
      head_sha: headSha,
      external_id: "team-a/plan-x7k2",
      output: { title: "200000 to add, 0 to change, 0 to destroy" },
      actions: [{ identifier: "apply" }],
    });
    expect(recorded?.history.map((h) => h.method)).toEqual(["POST", "PATCH"]);
    expect(recorded?.output.text?.length).toBeLessThanOrEqual(65_535);
  });

  it("reports GitHub's 422 for a check run on an unknown commit", async () => {
    const api = app().forInstallation(INSTALLATION);
    const err = await api.createCheckRun("acme", "infra", { name: "x", headSha: "0".repeat(40) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubApiError);
    expect(err).toMatchObject({ status: 422, request: "POST /repos/acme/infra/check-runs" });
  });

  it("reads a pull request with its shas from the git repository", async () => {
    expect(await app().forInstallation(INSTALLATION).getPull("acme", "infra", 7)).toEqual({
      number: 7,
      state: "open",
      draft: false,
      merged: false,
      headSha,
      headRef: "feature",
      baseRef: "main",
      headRepository: "acme/infra",
      baseRepository: "acme/infra",
      mergeable: true,
      mergeableState: "blocked",
      changedFiles: 252,
      author: "alice",
    });
  });

  it("lists every changed file over several pages, with a renamed file's old name", async () => {
    const before = fake.requests.length;
    const files = await app().forInstallation(INSTALLATION).listPullFiles("acme", "infra", 7);
    expect(files).toHaveLength(252);
    expect(files).toContainEqual({ filename: "new/name.tf", status: "renamed", previousFilename: "old/name.tf" });
    expect(files).toContainEqual({ filename: "envs/prod/main.tf", status: "modified" });
    expect(fake.requests.slice(before).filter((r) => r.path.endsWith("/files")).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it("lists reviews; the latest verdict of each reviewer counts", async () => {
    fake.addReview("acme/infra", 7, { user: "bob", state: "APPROVED", commitId: headSha });
    fake.addReview("acme/infra", 7, { user: "carol", state: "APPROVED", commitId: mainSha });
    fake.addReview("acme/infra", 7, { user: "carol", state: "CHANGES_REQUESTED", commitId: headSha });
    fake.addReview("acme/infra", 7, { user: "bob", state: "COMMENTED", commitId: headSha });
    const reviews = await app().forInstallation(INSTALLATION).listReviews("acme", "infra", 7);
    expect(reviews.map((r) => [r.user, r.state])).toEqual([
      ["bob", "APPROVED"],
      ["carol", "APPROVED"],
      ["carol", "CHANGES_REQUESTED"],
      ["bob", "COMMENTED"],
    ]);
    expect(approvers(reviews)).toEqual(["bob"]);
  });

  it("downloads a commit's tarball through the 302, and it packs as the CLI packs a checkout", async () => {
    const tarball = await app().forInstallation(INSTALLATION).downloadTarball("acme", "infra", mainSha);
    expect(fake.requests.slice(-2).map((r) => r.status)).toEqual([302, 200]);
    const packed = await configurationFromTarball(tarball, "envs/prod");
    await git.git("checkout", "-q", mainSha);
    expect(packed.digest).toBe((await packConfiguration(join(git.dir, "envs/prod"))).digest);
    await expect(app().forInstallation(INSTALLATION).downloadTarball("acme", "infra", mainSha, 100)).rejects.toThrow("is over 100 bytes");
  });

  it("comments on a pull request as the App's bot", async () => {
    const comment = await app().forInstallation(INSTALLATION).createIssueComment("acme", "infra", 7, "unknown command `ktf frobnicate`");
    expect(fake.comments.at(-1)).toEqual({ id: comment.id, repository: "acme/infra", issueNumber: 7, body: "unknown command `ktf frobnicate`", user: `${fake.slug}[bot]` });
  });

  it("answers 404 for a repository outside the installation", async () => {
    const other = await GitRepository.create();
    await other.commit("main", { "main.tf": "#\n" });
    fake.addRepository("acme/secret", other, 999);
    const err = await app().forInstallation(INSTALLATION).getPull("acme", "secret", 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, request: "GET /repos/acme/secret/pulls/1" });
    await other.remove();
  });
});

describe("installation tokens", () => {
  it("takes one token for concurrent calls and reuses it until the margin before expiry", async () => {
    const client = app();
    const api = client.forInstallation(INSTALLATION);
    const before = tokenRequests().length;
    await Promise.all([1, 2, 3, 4].map(() => api.getPull("acme", "infra", 7)));
    await api.getPull("acme", "infra", 7);
    expect(tokenRequests().length - before).toBe(1);

    clock += 54 * 60_000; // 6 minutes left: more than the margin of 5
    await api.getPull("acme", "infra", 7);
    expect(tokenRequests().length - before).toBe(1);

    clock += 2 * 60_000; // 4 minutes left: renewed before it expires
    await api.getPull("acme", "infra", 7);
    expect(tokenRequests().length - before).toBe(2);
    expect(fake.requests.at(-1)).toMatchObject({ auth: "token", status: 200 });
  });

  it("takes a new token when GitHub refuses the cached one", async () => {
    const api = app().forInstallation(INSTALLATION);
    await api.getPull("acme", "infra", 7);
    const before = tokenRequests().length;
    fake.expireTokens();
    expect((await api.getPull("acme", "infra", 7)).number).toBe(7);
    expect(tokenRequests().length - before).toBe(1);
    expect(fake.requests.slice(-3).map((r) => r.status)).toEqual([401, 201, 200]);
  });

  it("never logs a token", async () => {
    await app().forInstallation(INSTALLATION).getPull("acme", "infra", 7);
    const text = logs.join("");
    expect(text).toContain("Took a new GitHub installation token");
    for (const t of fake.tokens) expect(text).not.toContain(t.token);
  });
});

describe("App credentials", () => {
  it("names a private key that is not the App's", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const wrong = app({ privateKey });
    const err = await wrong.forInstallation(INSTALLATION).getPull("acme", "infra", 7).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubAuthError);
    expect((err as Error).message).toBe(
      `GitHub refused the JWT of App ${fake.appId} (401 to POST /app/installations/${INSTALLATION}/access_tokens): check the App ID and that the private key is that App's (keys can be revoked on the App's settings page)`,
    );
    await expect(wrong.findInstallation("acme", "infra")).rejects.toThrow(GitHubAuthError);
  });

  it("refuses at once a key that is no RSA private key", () => {
    expect(() => app({ privateKey: "-----BEGIN RSA PRIVATE KEY-----" })).toThrow(GitHubAuthError);
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256", privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    expect(() => app({ privateKey })).toThrow("it is a ec key, GitHub Apps use RSA");
  });

  it("takes a key with escaped newlines, as environment variables carry it", async () => {
    const client = app({ privateKey: fake.privateKey.replace(/\n/g, "\\n") });
    expect(await client.findInstallation("acme", "infra")).toBe(INSTALLATION);
  });

  it("converts a manifest code into the new App's credentials, once", async () => {
    fake.manifestCodes.set("abc123", {
      id: 99,
      slug: "ktf-acme",
      node_id: "A_99",
      owner: { login: "acme" },
      name: "ktf acme",
      client_id: "Iv1.0123",
      client_secret: "client-secret",
      webhook_secret: "hook-secret",
      pem: fake.privateKey,
      html_url: "https://github.com/apps/ktf-acme",
    });
    expect(await createAppFromManifest("abc123", { baseUrl: fake.url })).toEqual({
      id: 99,
      slug: "ktf-acme",
      pem: fake.privateKey,
      webhookSecret: "hook-secret",
      clientId: "Iv1.0123",
      clientSecret: "client-secret",
      htmlUrl: "https://github.com/apps/ktf-acme",
    });
    await expect(createAppFromManifest("abc123", { baseUrl: fake.url })).rejects.toThrow("GitHub does not know this manifest code");
  });
});
