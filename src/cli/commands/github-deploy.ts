import { spawn } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { GROUP } from "../../api/group.js";
import { KtfError, UsageError, errorMessage } from "../../errors.js";
import { createAppFromManifest, GITHUB_API_URL, type AppCredentials, type Fetch } from "../../github/app-client.js";
import { appSecret, DEFAULT_APP_SECRET } from "../../github/app-secret.js";
import { DEFAULT_NAMESPACE } from "../../install/manifests.js";
import type { KubeClient } from "../../kube/client.js";
import { connectToCluster } from "../../kube/connect.js";
import { RESOURCES } from "../../kube/resources.js";
import type { KtfOptions } from "../engine-args.js";
import type { Terminal } from "../output/terminal.js";

export interface GitHubDeployOptions extends KtfOptions {
  webhookUrl?: string;
  name?: string;
  org?: string;
  githubUrl?: string;
  githubApiUrl?: string;
  secret?: string;
  operatorNamespace?: string;
  timeout?: string;
  open?: boolean;
}

/** What the command needs from the world; tests pass their own. */
export interface GitHubDeploySeams {
  /** The cluster the Secret goes to (default: from --kubeconfig/--context, as kubectl). */
  client?: SecretWriter;
  fetch?: Fetch;
  /** Opens a URL in the user's browser (only with --open). */
  openBrowser?: (url: string) => void;
}

/** The two calls the flow makes to the cluster. */
export type SecretWriter = Pick<KubeClient, "get" | "create">;

export const GITHUB_WEB_URL = "https://github.com";
const KTF_HOMEPAGE = "https://github.com/ktf-dev/ktf";
const DEFAULT_TIMEOUT = "10m";
/** GitHub refuses longer App names. */
const MAX_APP_NAME = 34;

/** GitHub's App manifest (docs: "Registering a GitHub App from a manifest"). */
export interface AppManifest {
  name: string;
  url: string;
  hook_attributes: { url: string; active: boolean };
  redirect_url: string;
  public: boolean;
  default_permissions: Record<string, "read" | "write">;
  default_events: string[];
}

/**
 * What ktf's App may do: check runs (plans as checks, the apply button), pull requests (read
 * them, their files and reviews), contents (commit tarballs), issues (PR comments are issue
 * comments: POST /repos/{o}/{r}/issues/{n}/comments).
 */
export const APP_PERMISSIONS = { checks: "write", pull_requests: "write", contents: "read", metadata: "read", issues: "write" } as const;
export const APP_EVENTS = ["pull_request", "check_suite", "check_run", "issue_comment"] as const;

export function appManifest(o: { name: string; webhookUrl: string; redirectUrl: string }): AppManifest {
  return {
    name: o.name,
    url: KTF_HOMEPAGE,
    hook_attributes: { url: o.webhookUrl, active: true },
    redirect_url: o.redirectUrl,
    public: false,
    default_permissions: { ...APP_PERMISSIONS },
    default_events: [...APP_EVENTS],
  };
}

/** GitHub's web and API roots: github.com and api.github.com, or a GitHub Enterprise Server host and its /api/v3. */
export function githubUrls(githubUrl?: string, githubApiUrl?: string): { web: string; api: string } {
  const web = httpUrl("--github-url", githubUrl ?? GITHUB_WEB_URL).replace(/\/+$/, "");
  const api = githubApiUrl ? httpUrl("--github-api-url", githubApiUrl) : web === GITHUB_WEB_URL ? GITHUB_API_URL : `${web}/api/v3`;
  return { web, api: api.replace(/\/+$/, "") };
}

/** Where the manifest is posted: the new-App page of the user, or of an organization. */
export function newAppUrl(web: string, org: string | undefined, state: string): string {
  const page = org ? `${web}/organizations/${encodeURIComponent(org)}/settings/apps/new` : `${web}/settings/apps/new`;
  return `${page}?state=${encodeURIComponent(state)}`;
}

function appSettingsUrl(web: string, org: string | undefined, slug: string): string {
  return org ? `${web}/organizations/${encodeURIComponent(org)}/settings/apps/${slug}` : `${web}/settings/apps/${slug}`;
}

export interface ManifestFlowOptions {
  name: string;
  webhookUrl: string;
  org?: string;
  /** From githubUrls(). */
  web: string;
  api: string;
  namespace: string;
  secretName: string;
  client: SecretWriter;
  fetch?: Fetch;
}

/** An App GitHub created, whose credentials are stored. */
export interface DeployedApp {
  id: number;
  slug: string;
  htmlUrl: string;
  settingsUrl: string;
  namespace: string;
  secretName: string;
}

export interface ManifestFlow {
  /** http://127.0.0.1:PORT/: the page to open. */
  url: string;
  /** Settles once GitHub redirected back with a code of this flow: the App created and stored, or why not. */
  result: Promise<DeployedApp>;
  close(): Promise<void>;
}

/**
 * GitHub's App manifest flow, served on 127.0.0.1: `/` posts the manifest to GitHub, which
 * redirects to `/exchange?code&state`; the code becomes the App's credentials, stored in a
 * Secret. A redirect with another state is refused (400) and the flow waits on.
 */
export async function startManifestFlow(o: ManifestFlowOptions): Promise<ManifestFlow> {
  const state = randomBytes(20).toString("hex");
  let settle!: { ok: (app: DeployedApp) => void; fail: (err: unknown) => void };
  const result = new Promise<DeployedApp>((ok, fail) => (settle = { ok, fail }));
  // Handled here too: the caller may be waiting on its timeout when the flow fails.
  result.catch(() => undefined);
  let exchanging = false;
  let port = 0;

  const exchange = async (url: URL, res: ServerResponse) => {
    if (!sameState(url.searchParams.get("state") ?? "", state)) {
      return page(res, 400, "Wrong state", "This redirect is not from the App creation this ktf started: start again from its page.");
    }
    const code = url.searchParams.get("code");
    if (!code) return page(res, 400, "No code", "GitHub redirected without a code: create the App again from ktf's page.");
    if (exchanging) return page(res, 409, "Already done", "ktf has already taken this App's credentials.");
    exchanging = true;
    try {
      const app = await storeApp(o, await createAppFromManifest(code, { baseUrl: o.api, ...(o.fetch ? { fetch: o.fetch } : {}) }));
      page(res, 200, "GitHub App created", `ktf stored the credentials of ${app.slug} in Secret ${app.namespace}/${app.secretName}. You may close this window.`);
      settle.ok(app);
    } catch (err) {
      page(res, 502, "The App was not set up", errorMessage(err));
      settle.fail(err);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // Another site cannot reach this server by a name of its own (DNS rebinding) to read the state.
    if (req.headers.host !== `127.0.0.1:${port}`) return page(res, 400, "Wrong host", `Open http://127.0.0.1:${port}/.`);
    if (req.method !== "GET") return page(res, 405, "Method not allowed", "");
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
    if (url.pathname === "/") {
      const manifest = appManifest({ name: o.name, webhookUrl: o.webhookUrl, redirectUrl: `http://127.0.0.1:${port}/exchange` });
      return formPage(res, newAppUrl(o.web, o.org, state), manifest);
    }
    if (url.pathname === "/exchange") return exchange(url, res);
    return page(res, 404, "Not found", "");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => (res.headersSent ? res.end() : page(res, 500, "Internal error", errorMessage(err))));
  });
  await new Promise<void>((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    result,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

/** Writes the App's Secret (and the namespace, before `ktf install` made it). */
async function storeApp(o: ManifestFlowOptions, creds: AppCredentials): Promise<DeployedApp> {
  const app = { id: creds.id, slug: creds.slug, htmlUrl: creds.htmlUrl, settingsUrl: appSettingsUrl(o.web, o.org, creds.slug), namespace: o.namespace, secretName: o.secretName };
  const secret = appSecret(
    o.namespace,
    o.secretName,
    { appId: String(creds.id), privateKey: creds.pem, webhookSecret: creds.webhookSecret },
    { [`${GROUP}/github-app`]: creds.slug, [`${GROUP}/github-app-url`]: creds.htmlUrl },
  );
  try {
    if (!(await o.client.get(RESOURCES.Namespace, undefined, o.namespace))) {
      await o.client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: o.namespace } });
    }
    await o.client.create(secret);
  } catch (err) {
    // The code worked once: these credentials cannot be had again.
    throw new KtfError(
      `GitHub created App ${creds.slug} but its credentials could not be stored in Secret ${o.namespace}/${o.secretName}: ${errorMessage(err)}; delete the App (${app.settingsUrl}/advanced) and run ktf github deploy again`,
      { cause: err },
    );
  }
  return app;
}

/**
 * `ktf github deploy`: creates ktf's GitHub App through GitHub's manifest flow and stores its
 * ID, private key and webhook secret in a Secret of the operator's namespace.
 */
export async function githubDeploy(t: Terminal, o: GitHubDeployOptions, seams: GitHubDeploySeams = {}): Promise<number> {
  if (!o.webhookUrl) throw new UsageError("--webhook-url is required: the public HTTPS URL of the ktf-github Service (an Ingress or LoadBalancer in front of it), where GitHub sends events");
  const webhookUrl = httpUrl("--webhook-url", o.webhookUrl);
  const name = o.name ?? `ktf-${randomBytes(3).toString("hex")}`;
  if (name.length > MAX_APP_NAME) throw new UsageError(`--name ${name}: GitHub App names are at most ${MAX_APP_NAME} characters`);
  const { web, api } = githubUrls(o.githubUrl, o.githubApiUrl);
  const timeoutMs = parseDuration("--timeout", o.timeout ?? DEFAULT_TIMEOUT);
  const namespace = o.operatorNamespace ?? DEFAULT_NAMESPACE;
  const secretName = o.secret ?? DEFAULT_APP_SECRET;
  const client = seams.client ?? connectToCluster({ kubeconfig: o.kubeconfig, context: o.context, impersonate: { user: o.as, groups: o.asGroup }, env: t.env }).client;

  // Before GitHub creates anything: an App whose credentials had nowhere to go would be lost.
  if (await client.get(RESOURCES.Secret, namespace, secretName)) {
    throw new UsageError(`Secret ${namespace}/${secretName} exists already: it may hold another App's credentials; delete it (kubectl -n ${namespace} delete secret ${secretName}) or pass --secret OTHER`);
  }

  const flow = await startManifestFlow({ name, webhookUrl, ...(o.org ? { org: o.org } : {}), web, api, namespace, secretName, client, ...(seams.fetch ? { fetch: seams.fetch } : {}) });
  let timer: NodeJS.Timeout | undefined;
  try {
    t.stdout.write(`Open ${flow.url} in a browser to create the GitHub App ${name} on ${o.org ? `organization ${o.org} at ` : ""}${web} (waiting ${o.timeout ?? DEFAULT_TIMEOUT}).\n`);
    if (o.open) (seams.openBrowser ?? openBrowser)(flow.url);
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new KtfError(`GitHub did not redirect back within ${o.timeout ?? DEFAULT_TIMEOUT}: open ${flow.url} and create the App there while ktf waits, or pass a longer --timeout`)), timeoutMs);
    });
    const app = await Promise.race([flow.result, timeout]);
    t.stdout.write(
      `Created GitHub App ${app.slug} (ID ${app.id}): ${app.htmlUrl}\n` +
        `Its ID, private key and webhook secret are in Secret ${app.namespace}/${app.secretName}.\n` +
        `Next: install the App on your repositories (${app.htmlUrl}/installations/new), then run:\n` +
        `  ktf install --github-app ${app.secretName}${namespace === DEFAULT_NAMESPACE ? "" : ` --operator-namespace ${namespace}`}\n`,
    );
    return 0;
  } finally {
    clearTimeout(timer);
    await flow.close();
  }
}

/** "10m", "90s", "1h", "500ms"; a bare number is seconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const n = Number(m?.[1]);
  if (!m || !(n > 0)) throw new UsageError(`${flag} expects a duration such as 10m, 90s or 1h, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"] ?? 1000;
  return n * unit;
}

function httpUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} expects an http(s) URL, got "${text}"`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`${flag} expects an http(s) URL, got "${text}"`);
  return text;
}

function sameState(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

const HEADERS = {
  "Content-Type": "text/html; charset=utf-8",
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  // No script at all. form-action stays open: GitHub may send the post on to a sign-in page elsewhere (SSO).
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action https: http:",
} as const;

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>\n`;
  res.writeHead(status, { ...HEADERS, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function formPage(res: ServerResponse, action: string, manifest: AppManifest): void {
  const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>Create ktf's GitHub App</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Create ktf's GitHub App</h1>
<p>GitHub will show the App <b>${escapeHtml(manifest.name)}</b>, sending its webhooks to <code>${escapeHtml(manifest.hook_attributes.url)}</code>. Once you create it, GitHub sends you back here and ktf stores its credentials in the cluster.</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest))}">
<button type="submit">Create the GitHub App on GitHub</button>
</form>
</body></html>
`;
  res.writeHead(200, { ...HEADERS, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** The platform's opener, detached; the printed URL is there when none works. */
function openBrowser(url: string): void {
  const [command, args] = process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  const child = spawn(command, args, { detached: true, stdio: "ignore" });
  child.on("error", () => undefined);
  child.unref();
}
