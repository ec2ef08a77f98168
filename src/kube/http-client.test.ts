import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { isApiError } from "../errors.js";
import { connectToCluster } from "./connect.js";
import type { HttpKubeClient } from "./http-client.js";
import { RESOURCES } from "./resources.js";

interface Seen {
  url: string;
  headers: NodeJS.Dict<string[]>;
  /** The CN of the client certificate, if one was presented. */
  client?: string;
}

/** A self-signed certificate for ::1 only, its CN no host name, from openssl: TLS must check the server's own address. */
function certificate(dir: string, name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const args = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-addext", "subjectAltName=IP:::1"];
  execFileSync("openssl", ["req", "-x509", ...args, "-keyout", key, "-out", cert], { stdio: "ignore" });
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

let dir: string;
let api: https.Server;
let proxy: http.Server;
let apiPort: number;
let proxyPort: number;
let ca: string;
const requests: Seen[] = [];
const upgrades: Seen[] = [];
const tunnels: { target: string; auth?: string }[] = [];
const proxySockets = new Set<net.Socket>();
const clients: HttpKubeClient[] = [];
/** Tokens the fake API server rejects with 401. */
const rejected = new Set<string>();

const listen = (server: net.Server, host: string) => new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));

function seen(req: http.IncomingMessage): Seen {
  const cn: unknown = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
  return { url: req.url ?? "", headers: req.headersDistinct, client: typeof cn === "string" ? cn : undefined };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ktf-http-client-"));
  const server = certificate(dir, "server", "fake-api-server");
  const client = certificate(dir, "client", "exec-user");
  ca = Buffer.from(server.cert).toString("base64");
  await writeFile(join(dir, "client.crt"), client.cert);
  await writeFile(join(dir, "client.key"), client.key);
  // Counts its runs in a file; token-N is the token of the Nth run.
  await writeFile(
    join(dir, "plugin.mjs"),
    `import { existsSync, readFileSync, writeFileSync } from "node:fs";
const runs = (existsSync(process.env.COUNTER) ? Number(readFileSync(process.env.COUNTER, "utf8")) : 0) + 1;
writeFileSync(process.env.COUNTER, String(runs));
const status = { token: "token-" + runs, clientCertificateData: readFileSync(process.env.CERT, "utf8"), clientKeyData: readFileSync(process.env.KEY, "utf8") };
console.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status }));
`,
  );

  // The fake API server asks for a client certificate but does not require one.
  api = https.createServer({ ...server, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    requests.push(seen(req));
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    if (rejected.has(token)) {
      rejected.delete(token);
      res.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Status", code: 401, reason: "Unauthorized", message: "Unauthorized" }));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } }));
  });
  const wss = new WebSocketServer({ noServer: true });
  api.on("upgrade", (req, socket, head) => {
    upgrades.push(seen(req));
    wss.handleUpgrade(req, socket, head, (ws) => ws.close());
  });
  api.on("close", () => wss.close());

  // A minimal CONNECT proxy: it records each tunnel, then splices the two sockets.
  proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    tunnels.push({ target: req.url ?? "", auth: req.headers["proxy-authorization"] });
    const target = new URL(`http://${req.url ?? ""}`);
    const upstream = net.connect(Number(target.port), target.hostname.replace(/^\[|\]$/g, ""), () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    for (const s of [socket, upstream]) {
      proxySockets.add(s);
      s.on("close", () => proxySockets.delete(s));
      s.on("error", () => s.destroy());
    }
  });
  // The API server on ::1 and the proxy on 127.0.0.1: TLS must check the server's address, not the proxy's.
  [apiPort, proxyPort] = await Promise.all([listen(api, "::1"), listen(proxy, "127.0.0.1")]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of proxySockets) s.destroy();
  api.closeAllConnections();
  proxy.closeAllConnections();
  await Promise.all([new Promise((r) => api.close(r)), new Promise((r) => proxy.close(r))]);
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests.length = 0;
  upgrades.length = 0;
  tunnels.length = 0;
  rejected.clear();
});

/** A client for a kubeconfig whose cluster is the fake API server, with no proxy from the environment. */
async function clientFor(name: string, cluster: object, user: object): Promise<HttpKubeClient> {
  const path = join(dir, `${name}.yaml`);
  const config = {
    "current-context": "c",
    clusters: [{ name: "k", cluster: { server: `https://[::1]:${apiPort}`, "certificate-authority-data": ca, ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
  };
  await writeFile(path, JSON.stringify(config));
  const { client } = connectToCluster({ kubeconfig: path, env: {} });
  clients.push(client);
  return client;
}

const plugin = (counter: string) => ({
  exec: {
    apiVersion: "client.authentication.k8s.io/v1",
    command: process.execPath,
    args: [join(dir, "plugin.mjs")],
    env: [
      { name: "COUNTER", value: join(dir, counter) },
      { name: "CERT", value: join(dir, "client.crt") },
      { name: "KEY", value: join(dir, "client.key") },
    ],
  },
});

const impersonating = { as: "jane", "as-groups": ["dev", "ops"], "as-user-extra": { scopes: ["view"] } };

describe("HttpKubeClient", () => {
  it("tunnels requests through the cluster's proxy-url, impersonating the kubeconfig's as and as-groups", async () => {
    const client = await clientFor("proxied", { "proxy-url": `http://me:s%40cret@127.0.0.1:${proxyPort}` }, { token: "t", ...impersonating });
    expect(await client.get(RESOURCES.Namespace, undefined, "x")).toMatchObject({ metadata: { name: "x" } });
    expect(tunnels).toEqual([{ target: `[::1]:${apiPort}`, auth: `Basic ${Buffer.from("me:s@cret").toString("base64")}` }]);
    expect(requests).toMatchObject([
      {
        url: "/api/v1/namespaces/x",
        headers: { authorization: ["Bearer t"], "impersonate-user": ["jane"], "impersonate-group": ["dev", "ops"], "impersonate-extra-scopes": ["view"] },
      },
    ]);
  });

  it("opens websockets through the proxy too, with impersonation and the exec plugin's client certificate", async () => {
    const client = await clientFor("ws", { "proxy-url": `http://127.0.0.1:${proxyPort}` }, { ...plugin("ws-runs"), ...impersonating });
    const socket = await client.websocket("/api/v1/namespaces/x/pods/p/exec?command=sh", ["v5.channel.k8s.io"]);
    socket.terminate();
    expect(tunnels).toEqual([{ target: `[::1]:${apiPort}`, auth: undefined }]);
    expect(upgrades).toMatchObject([{ headers: { authorization: ["Bearer token-1"], "impersonate-user": ["jane"], "impersonate-group": ["dev", "ops"] }, client: "exec-user" }]);
  });

  it("runs the exec plugin again after a 401 and retries once with the fresh token", async () => {
    const client = await clientFor("retry", {}, plugin("retry-runs"));
    rejected.add("token-1");
    expect(await client.get(RESOURCES.Namespace, undefined, "x")).toMatchObject({ metadata: { name: "x" } });
    expect(requests.map((r) => [r.headers.authorization, r.client])).toEqual([
      [["Bearer token-1"], "exec-user"],
      [["Bearer token-2"], "exec-user"],
    ]);
    expect(await readFile(join(dir, "retry-runs"), "utf8")).toBe("2");
    expect(tunnels).toEqual([]);
  });

  it("does not retry a 401 that no fresh credential can change (a fixed token)", async () => {
    const client = await clientFor("fixed", {}, { token: "stale" });
    rejected.add("stale");
    const err: unknown = await client.get(RESOURCES.Namespace, undefined, "x").catch((e: unknown) => e);
    expect(isApiError(err, 401)).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it("tunnels to a plain http:// API server as well", async () => {
    const plain = http.createServer((req, res) => {
      requests.push({ url: req.url ?? "", headers: req.headersDistinct });
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Namespace", metadata: { name: "x" } }));
    });
    const port = await listen(plain, "::1");
    try {
      const client = await clientFor("plain", { server: `http://[::1]:${port}`, "proxy-url": `http://127.0.0.1:${proxyPort}` }, { token: "t" });
      expect(await client.get(RESOURCES.Namespace, undefined, "x")).toMatchObject({ metadata: { name: "x" } });
      client.close();
      expect(tunnels).toEqual([{ target: `[::1]:${port}`, auth: undefined }]);
      expect(requests).toMatchObject([{ url: "/api/v1/namespaces/x", headers: { authorization: ["Bearer t"] } }]);
    } finally {
      plain.closeAllConnections();
      await new Promise((r) => plain.close(r));
    }
  });

  it("says which proxy refused the tunnel", async () => {
    const closed = http.createServer();
    const port = await listen(closed, "127.0.0.1");
    await new Promise((r) => closed.close(r));
    const client = await clientFor("no-proxy", { "proxy-url": `http://127.0.0.1:${port}` }, { token: "t" });
    await expect(client.get(RESOURCES.Namespace, undefined, "x")).rejects.toThrow(
      new RegExp(`cannot open a tunnel to \\[::1\\]:${apiPort} through the proxy 127.0.0.1:${port} \\(ECONNREFUSED`),
    );
  });
});
