import { request } from "node:http";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../../../test/harness/fake-github.js";
import { KtfError, UsageError } from "../../errors.js";
import type { KubeObject } from "../../kube/client.js";
import type { ResourceType } from "../../kube/resources.js";
import type { Terminal } from "../output/terminal.js";
import { githubDeploy, githubUrls, parseDuration, startManifestFlow, type AppManifest, type ManifestFlow, type SecretWriter } from "./github-deploy.js";

/** A cluster that records what is created, holding the objects the test put there. */
class RecordingClient implements SecretWriter {
  readonly created: KubeObject[] = [];
  constructor(readonly existing: KubeObject[] = []) {}
  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    const found = [...this.existing, ...this.created].find((o) => o.kind === type.kind && o.metadata.name === name && (o.metadata.namespace ?? undefined) === namespace);
    return Promise.resolve(found as T | undefined);
  }
  create<T extends KubeObject>(object: T): Promise<T> {
    this.created.push(structuredClone(object));
    return Promise.resolve(object);
  }
}

let fake: FakeGitHub;
const flows: ManifestFlow[] = [];

beforeAll(async () => {
  fake = await FakeGitHub.start();
});
afterAll(async () => {
  await fake.close();
});
afterEach(async () => {
  await Promise.all(flows.splice(0).map((f) => f.close()));
});

/** A code the fake converts into its App, as GitHub's POST /app-manifests/{code}/conversions answers. */
function manifestCode(code: string): void {
  fake.manifestCodes.set(code, {
    id: fake.appId,
    slug: fake.slug,
    node_id: "A_1",
    name: "ktf test",
    owner: { login: "acme", type: "Organization" },
    html_url: `https://github.com/apps/${fake.slug}`,
    pem: fake.privateKey,
    webhook_secret: "the-webhook-secret",
    client_id: "Iv1.abc",
    client_secret: "the-client-secret",
    permissions: {},
    events: [],
  });
}

async function start(client: SecretWriter, org?: string): Promise<ManifestFlow> {
  const flow = await startManifestFlow({
    name: "ktf-test-app",
    webhookUrl: "https://hooks.example.com/github",
    ...(org ? { org } : {}),
    web: "https://github.com",
    api: fake.url,
    namespace: "ktf-system",
    secretName: "ktf-github-app",
    client,
  });
  flows.push(flow);
  return flow;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e] ?? "");
}

/** The page's form, as a browser would post it. */
async function form(url: string): Promise<{ action: string; state: string; manifest: AppManifest }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  const html = await res.text();
  const action = unescapeHtml(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? "");
  const manifest = JSON.parse(unescapeHtml(/<input type="hidden" name="manifest" value="([^"]*)"/.exec(html)?.[1] ?? "null")) as AppManifest;
  return { action, state: new URL(action).searchParams.get("state") ?? "", manifest };
}

const decoded = (secret: KubeObject | undefined) => Object.fromEntries(Object.entries((secret?.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));

describe("the manifest flow", () => {
  it("serves a form that posts the manifest to GitHub's new-App page with a state", async () => {
    const flow = await start(new RecordingClient());
    const { action, state, manifest } = await form(flow.url);
    expect(action).toBe(`https://github.com/settings/apps/new?state=${state}`);
    expect(state).toMatch(/^[0-9a-f]{40}$/);
    expect(manifest).toEqual({
      name: "ktf-test-app",
      url: "https://github.com/ktf-dev/ktf",
      hook_attributes: { url: "https://hooks.example.com/github", active: true },
      redirect_url: `${flow.url}exchange`,
      public: false,
      default_permissions: { checks: "write", pull_requests: "write", contents: "read", metadata: "read", issues: "write" },
      default_events: ["pull_request", "check_suite", "check_run", "issue_comment"],
    });
    expect(flow.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it("posts to the organization's new-App page with --org", async () => {
    const { action, state } = await form((await start(new RecordingClient(), "acme corp")).url);
    expect(action).toBe(`https://github.com/organizations/acme%20corp/settings/apps/new?state=${state}`);
  });

  it("trades GitHub's code for the App's credentials and stores them in a Secret (and the namespace before ktf install)", async () => {
    const client = new RecordingClient();
    const flow = await start(client);
    const { state } = await form(flow.url);
    manifestCode("code-good");
    const res = await fetch(`${flow.url}exchange?code=code-good&state=${state}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("ktf-system/ktf-github-app");
    expect(page).not.toContain("PRIVATE KEY");
    await expect(flow.result).resolves.toEqual({
      id: fake.appId,
      slug: fake.slug,
      htmlUrl: `https://github.com/apps/${fake.slug}`,
      settingsUrl: `https://github.com/settings/apps/${fake.slug}`,
      namespace: "ktf-system",
      secretName: "ktf-github-app",
    });
    expect(client.created.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual(["Namespace//ktf-system", "Secret/ktf-system/ktf-github-app"]);
    const secret = client.created[1];
    expect(decoded(secret)).toEqual({ "app-id": String(fake.appId), "private-key": fake.privateKey, "webhook-secret": "the-webhook-secret" });
    expect(secret?.type).toBe("Opaque");
    expect(fake.manifestCodes.has("code-good")).toBe(false);
    // The one code is spent: a second redirect changes nothing.
    expect((await fetch(`${flow.url}exchange?code=code-good&state=${state}`)).status).toBe(409);
    expect(client.created).toHaveLength(2);
  });

  it("leaves an existing namespace alone", async () => {
    const client = new RecordingClient([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "ktf-system" } }]);
    const flow = await start(client);
    const { state } = await form(flow.url);
    manifestCode("code-ns");
    await fetch(`${flow.url}exchange?code=code-ns&state=${state}`);
    await flow.result;
    expect(client.created.map((o) => o.kind)).toEqual(["Secret"]);
  });

  it.each([
    ["a wrong state", (state: string) => `code=code-x&state=${state.replace(/.$/, (c) => (c === "0" ? "1" : "0"))}`],
    ["no state", () => "code=code-x"],
    ["a shorter state", (state: string) => `code=code-x&state=${state.slice(1)}`],
  ])("refuses a redirect with %s (400), writes nothing, and keeps waiting", async (_, query) => {
    const client = new RecordingClient();
    const flow = await start(client);
    const { state } = await form(flow.url);
    manifestCode("code-x");
    expect((await fetch(`${flow.url}exchange?${query(state)}`)).status).toBe(400);
    expect(client.created).toEqual([]);
    expect(fake.manifestCodes.has("code-x")).toBe(true);
    // The real redirect still works.
    expect((await fetch(`${flow.url}exchange?code=code-x&state=${state}`)).status).toBe(200);
    await expect(flow.result).resolves.toMatchObject({ slug: fake.slug });
  });

  it("ends with a clear error when GitHub refuses the code", async () => {
    const client = new RecordingClient();
    const flow = await start(client);
    const { state } = await form(flow.url);
    const res = await fetch(`${flow.url}exchange?code=never-issued&state=${state}`);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("GitHub does not know this manifest code");
    await expect(flow.result).rejects.toThrow("GitHub does not know this manifest code: it works once and within an hour; create the App again");
    expect(client.created).toEqual([]);
  });

  it("says the App exists when its Secret cannot be written, without its key", async () => {
    const client = new RecordingClient([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "ktf-system" } }]);
    client.create = () => Promise.reject(new Error("secrets is forbidden"));
    const flow = await start(client);
    const { state } = await form(flow.url);
    manifestCode("code-forbidden");
    await fetch(`${flow.url}exchange?code=code-forbidden&state=${state}`);
    const err = await flow.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KtfError);
    expect((err as Error).message).toBe(
      `GitHub created App ${fake.slug} but its credentials could not be stored in Secret ktf-system/ktf-github-app: secrets is forbidden; delete the App (https://github.com/settings/apps/${fake.slug}/advanced) and run ktf github deploy again`,
    );
  });

  it("answers only requests for 127.0.0.1 (no DNS rebinding) and only GET", async () => {
    const flow = await start(new RecordingClient());
    const port = new URL(flow.url).port;
    const status = (method: string, host: string) =>
      new Promise<number>((ok, fail) => {
        const req = request({ host: "127.0.0.1", port, path: "/", method, headers: { host } }, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        });
        req.on("error", fail).end();
      });
    expect(await status("GET", `evil.example:${port}`)).toBe(400);
    expect(await status("GET", `localhost:${port}`)).toBe(400);
    expect(await status("POST", `127.0.0.1:${port}`)).toBe(405);
    expect(await status("GET", `127.0.0.1:${port}`)).toBe(200);
  });
});

/** The command in process: what it printed, and its promise. */
function terminal(): { t: Terminal; out: () => string } {
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  const t = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: "/" } as unknown as Terminal;
  return { t, out: () => out };
}

async function printedUrl(out: () => string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const url = /Open (http:\/\/127\.0\.0\.1:\d+\/) /.exec(out())?.[1];
    if (url) return url;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no URL printed: ${out()}`);
}

describe("ktf github deploy", () => {
  it("prints the page, opens it only with --open, stores the App and says what comes next, never its key or secret", async () => {
    const client = new RecordingClient();
    const { t, out } = terminal();
    const opened: string[] = [];
    const done = githubDeploy(t, { webhookUrl: "https://hooks.example.com/", githubApiUrl: fake.url, operatorNamespace: "ktf-ops", secret: "gh", open: true }, { client, openBrowser: (u) => opened.push(u) });
    const url = await printedUrl(out);
    expect(opened).toEqual([url]);
    const { action, state, manifest } = await form(url);
    expect(action).toMatch(/^https:\/\/github\.com\/settings\/apps\/new\?state=/);
    expect(manifest.name).toMatch(/^ktf-[0-9a-f]{6}$/);
    manifestCode("code-cli");
    expect((await fetch(`${url}exchange?code=code-cli&state=${state}`)).status).toBe(200);
    expect(await done).toBe(0);
    expect(out()).toContain(`Created GitHub App ${fake.slug} (ID ${fake.appId}): https://github.com/apps/${fake.slug}\n`);
    expect(out()).toContain("Secret ktf-ops/gh");
    expect(out()).toContain(`install the App on your repositories (https://github.com/apps/${fake.slug}/installations/new)`);
    expect(out()).toContain("  ktf install --github-app gh --operator-namespace ktf-ops\n");
    expect(out()).not.toContain("PRIVATE KEY");
    expect(out()).not.toContain("the-webhook-secret");
    expect(client.created.find((o) => o.kind === "Secret")?.metadata).toMatchObject({ name: "gh", namespace: "ktf-ops" });
    // The server is gone once the command returns.
    await expect(fetch(url)).rejects.toThrow();
  });

  it("does not open a browser without --open", async () => {
    const { t, out } = terminal();
    const opened: string[] = [];
    const done = githubDeploy(t, { webhookUrl: "https://hooks.example.com/", githubApiUrl: fake.url, timeout: "300ms" }, { client: new RecordingClient(), openBrowser: (u) => opened.push(u) }).catch((e: unknown) => e);
    await printedUrl(out);
    expect(await done).toBeInstanceOf(KtfError);
    expect(opened).toEqual([]);
  });

  it("ends with a clear error when no redirect comes before --timeout", async () => {
    const { t, out } = terminal();
    const client = new RecordingClient();
    const err = await githubDeploy(t, { webhookUrl: "https://hooks.example.com/", githubApiUrl: fake.url, timeout: "200ms" }, { client }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KtfError);
    expect((err as Error).message).toMatch(/^GitHub did not redirect back within 200ms: open http:\/\/127\.0\.0\.1:\d+\/ and create the App there while ktf waits, or pass a longer --timeout$/);
    expect(client.created).toEqual([]);
    await expect(fetch(await printedUrl(out))).rejects.toThrow();
  });

  it("refuses, before GitHub creates anything, to overwrite an existing Secret", async () => {
    const client = new RecordingClient([{ apiVersion: "v1", kind: "Secret", metadata: { name: "ktf-github-app", namespace: "ktf-system" } }]);
    const { t, out } = terminal();
    await expect(githubDeploy(t, { webhookUrl: "https://hooks.example.com/" }, { client })).rejects.toThrow(
      "Secret ktf-system/ktf-github-app exists already: it may hold another App's credentials; delete it (kubectl -n ktf-system delete secret ktf-github-app) or pass --secret OTHER",
    );
    expect(out()).toBe("");
  });

  it.each([
    [{}, "--webhook-url is required"],
    [{ webhookUrl: "hooks.example.com" }, '--webhook-url expects an http(s) URL, got "hooks.example.com"'],
    [{ webhookUrl: "ftp://hooks.example.com" }, '--webhook-url expects an http(s) URL, got "ftp://hooks.example.com"'],
    [{ webhookUrl: "https://h/", name: "x".repeat(35) }, "GitHub App names are at most 34 characters"],
    [{ webhookUrl: "https://h/", timeout: "soon" }, '--timeout expects a duration such as 10m, 90s or 1h, got "soon"'],
    [{ webhookUrl: "https://h/", githubUrl: "ghe.example.com" }, '--github-url expects an http(s) URL, got "ghe.example.com"'],
  ])("refuses %j: %s", async (o, message) => {
    const err = await githubDeploy(terminal().t, o, { client: new RecordingClient() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(message);
  });
});

describe("GitHub's URLs", () => {
  it.each([
    [undefined, undefined, { web: "https://github.com", api: "https://api.github.com" }],
    ["https://github.com/", undefined, { web: "https://github.com", api: "https://api.github.com" }],
    ["https://ghe.example.com", undefined, { web: "https://ghe.example.com", api: "https://ghe.example.com/api/v3" }],
    ["https://ghe.example.com/", "http://127.0.0.1:9/", { web: "https://ghe.example.com", api: "http://127.0.0.1:9" }],
  ])("--github-url %s --github-api-url %s", (web, api, want) => {
    expect(githubUrls(web, api)).toEqual(want);
  });

  it.each([
    ["10m", 600_000],
    ["90s", 90_000],
    ["90", 90_000],
    ["1h", 3_600_000],
    ["250ms", 250],
  ])("--timeout %s is %d ms", (text, ms) => {
    expect(parseDuration("--timeout", text)).toBe(ms);
  });
});
