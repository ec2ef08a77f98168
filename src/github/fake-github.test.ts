/** The fake GitHub's own wire format, checked with plain fetch: what the App client's tests rely on. */
import { createSign } from "node:crypto";
import { Parser, type ReadEntry } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub, GitRepository } from "../../test/harness/fake-github.js";

let fake: FakeGitHub;
let git: GitRepository;
let base: string;
let head: string;

function jwt(claims: Record<string, unknown>, key = fake.privateKey, alg = "RS256"): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${part({ alg, typ: "JWT" })}.${part(claims)}`;
  const signature = createSign("RSA-SHA256").update(unsigned).sign(key).toString("base64url");
  return `${unsigned}.${signature}`;
}

const seconds = () => Math.floor(Date.now() / 1000);

async function token(): Promise<string> {
  const res = await fetch(`${fake.url}/app/installations/1/access_tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${jwt({ iss: fake.appId, iat: seconds() - 30, exp: seconds() + 500 })}` },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  fake = await FakeGitHub.start();
  git = await GitRepository.create();
  base = await git.commit("main", { "a.tf": "a\n", "b.tf": "b\n", "c.tf": "c\n" });
  head = await git.commit("topic", { "a.tf": "a2\n", "d.tf": "d\n", "e.tf": "e\n", "b.tf": null }, { from: "main" });
  // A commit on main after the branch: `base...head` leaves it out, as GitHub's PR files do.
  await git.commit("main", { "later-on-main.tf": "x\n" });
  fake.addRepository("acme/infra", git, 1);
  fake.addPull({ repository: "acme/infra", number: 1, headRef: "topic", baseRef: "main", author: "alice" });
});

afterAll(async () => {
  await fake.close();
  await git.remove();
});

describe("the fake GitHub's App JWT checks", () => {
  it.each<[string, () => string, string]>([
    ["no credential", () => "", "A JSON web token could not be decoded"],
    ["garbage", () => "Bearer not.a.jwt", "A JSON web token could not be decoded"],
    ["alg none", () => `Bearer ${jwt({ iss: fake.appId, iat: seconds(), exp: seconds() + 500 }, fake.privateKey, "none")}`, "A JSON web token could not be decoded"],
    ["another App's iss", () => `Bearer ${jwt({ iss: 1, iat: seconds(), exp: seconds() + 500 })}`, "A JSON web token could not be decoded"],
    ["expired", () => `Bearer ${jwt({ iss: fake.appId, iat: seconds() - 700, exp: seconds() - 10 })}`, "'Expiration time' claim ('exp') must be a numeric value"],
    ["exp an hour away", () => `Bearer ${jwt({ iss: fake.appId, iat: seconds(), exp: seconds() + 3600 })}`, "'Expiration time' claim ('exp') is too far in the future."],
    ["iat in the future", () => `Bearer ${jwt({ iss: fake.appId, iat: seconds() + 300, exp: seconds() + 500 })}`, "'Issued at' claim ('iat')"],
  ])("refuses %s with GitHub's 401", async (_name, authorization, message) => {
    const res = await fetch(`${fake.url}/app/installations/1/access_tokens`, { method: "POST", headers: authorization() ? { Authorization: authorization() } : {} });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = (await res.json()) as { message: string; documentation_url: string };
    expect(body.message).toContain(message);
    expect(body.documentation_url).toMatch(/^https:\/\/docs\.github\.com\//);
  });

  it("issues an installation token with its expiry, and takes it on repository calls only while it lives", async () => {
    const res = await fetch(`${fake.url}/app/installations/1/access_tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${jwt({ iss: String(fake.appId), iat: seconds() - 30, exp: seconds() + 570 })}` },
    });
    const issued = (await res.json()) as { token: string; expires_at: string };
    expect(issued.token).toMatch(/^ghs_/);
    expect(Date.parse(issued.expires_at) - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(issued.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await fetch(`${fake.url}/repos/acme/infra/pulls/1`, { headers: { Authorization: `token ${issued.token}` } })).status).toBe(200);
    fake.expireTokens();
    const expired = await fetch(`${fake.url}/repos/acme/infra/pulls/1`, { headers: { Authorization: `token ${issued.token}` } });
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { message: string }).message).toBe("Bad credentials");
    const jwtOnRepo = await fetch(`${fake.url}/repos/acme/infra/pulls/1`, { headers: { Authorization: `Bearer ${jwt({ iss: fake.appId, iat: seconds(), exp: seconds() + 500 })}` } });
    expect(jwtOnRepo.status).toBe(401);
  });

  it("answers 404 for an installation it does not have", async () => {
    const res = await fetch(`${fake.url}/app/installations/2/access_tokens`, { method: "POST", headers: { Authorization: `Bearer ${jwt({ iss: fake.appId, iat: seconds(), exp: seconds() + 500 })}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ message: "Not Found" });
  });
});

describe("the fake GitHub's repository calls", () => {
  it("lists a PR's files from git diff base...head, paged with a Link header", async () => {
    const auth = { Authorization: `token ${await token()}` };
    const first = await fetch(`${fake.url}/repos/acme/infra/pulls/1/files?per_page=2`, { headers: auth });
    const link = first.headers.get("link") ?? "";
    expect(link).toBe(
      `<${fake.url}/repos/acme/infra/pulls/1/files?per_page=2&page=2>; rel="next", <${fake.url}/repos/acme/infra/pulls/1/files?per_page=2&page=2>; rel="last"`,
    );
    const second = await fetch(/<([^>]+)>; rel="next"/.exec(link)?.[1] ?? "", { headers: auth });
    expect(second.headers.get("link")).toBe(`<${fake.url}/repos/acme/infra/pulls/1/files?per_page=2&page=1>; rel="prev", <${fake.url}/repos/acme/infra/pulls/1/files?per_page=2&page=1>; rel="first"`);
    const files = [...((await first.json()) as { filename: string; status: string }[]), ...((await second.json()) as { filename: string; status: string }[])];
    expect(files.map((f) => [f.filename, f.status])).toEqual([
      ["a.tf", "modified"],
      ["b.tf", "removed"],
      ["d.tf", "added"],
      ["e.tf", "added"],
    ]);
  });

  it("serves a PR with the shas of its branches", async () => {
    const res = await fetch(`${fake.url}/repos/acme/infra/pulls/1`, { headers: { Authorization: `token ${await token()}` } });
    expect(await res.json()).toMatchObject({ number: 1, head: { sha: head, ref: "topic", repo: { full_name: "acme/infra" } }, base: { ref: "main" }, mergeable: true, mergeable_state: "clean", changed_files: 4 });
  });

  it("redirects a tarball to a codeload URL that needs its own token, once", async () => {
    const res = await fetch(`${fake.url}/repos/acme/infra/tarball/${base}`, { headers: { Authorization: `token ${await token()}` }, redirect: "manual" });
    expect(res.status).toBe(302);
    const location = res.headers.get("location") ?? "";
    expect(location).toMatch(new RegExp(`/_codeload/acme/infra/legacy\\.tar\\.gz/${base}\\?token=[0-9a-f]+$`));
    const noToken = await fetch(location.replace(/\?token=.*/, ""));
    expect(noToken.status).toBe(404);
    const archive = await fetch(location);
    expect(archive.headers.get("content-type")).toBe("application/x-gzip");
    const paths: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const parser = new Parser({ onReadEntry: (e: ReadEntry) => (paths.push(e.path), e.resume()) });
      parser.on("error", reject);
      parser.on("end", () => resolve());
      void archive.arrayBuffer().then((b) => parser.end(Buffer.from(b)));
    });
    const top = `acme-infra-${base.slice(0, 7)}/`;
    expect(paths).toEqual([top, `${top}a.tf`, `${top}b.tf`, `${top}c.tf`]);
    expect((await fetch(location)).status).toBe(404);
    const unknown = await fetch(`${fake.url}/repos/acme/infra/tarball/no-such-ref`, { headers: { Authorization: `token ${await token()}` }, redirect: "manual" });
    expect(unknown.status).toBe(404);
  });

  it("refuses a check run output over 65,535 characters with GitHub's 422", async () => {
    const res = await fetch(`${fake.url}/repos/acme/infra/check-runs`, {
      method: "POST",
      headers: { Authorization: `token ${await token()}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "ktf", head_sha: head, output: { title: "t", summary: "s", text: "x".repeat(65_536) } }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toContain("Only 65535 characters are allowed; 65536 were supplied.");
  });
});
