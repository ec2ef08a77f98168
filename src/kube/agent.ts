import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { ConnectionError } from "../errors.js";

const CONNECT_TIMEOUT_MS = 30_000;

export interface AgentSettings {
  ca?: Buffer;
  insecure?: boolean;
  servername?: string;
  proxy?: URL;
}

/**
 * The keep-alive pool to the API server, for requests and websocket upgrades alike. The
 * client certificate is not set here but per request (it may come from an exec plugin and
 * rotate); node pools connections by certificate, so each identity gets its own sockets.
 */
export function apiServerAgent(server: URL, s: AgentSettings): http.Agent {
  if (server.protocol !== "https:") return s.proxy ? new HttpTunnelAgent(s.proxy, { keepAlive: true }) : new http.Agent({ keepAlive: true });
  const options: https.AgentOptions = { keepAlive: true, ca: s.ca, rejectUnauthorized: !s.insecure, ...(s.servername ? { servername: s.servername } : {}) };
  return s.proxy ? new HttpsTunnelAgent(s.proxy, options) : new https.Agent(options);
}

type Callback = (err: Error | null, stream: Duplex) => void;

/** Hands the agent its socket once the tunnel is up: node lets createConnection answer later. */
function deliver(socket: Promise<Duplex>, callback?: Callback): undefined {
  socket.then(
    (s) => callback?.(null, s),
    (err: Error) => (callback as ((err: Error) => void) | undefined)?.(err),
  );
  return undefined;
}

/** TLS runs end to end with the API server inside the proxy's tunnel. */
class HttpsTunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: Callback): undefined {
    // With a socket given, tls.connect dials nothing; options.host is what the certificate must name (not the proxy).
    const socket = tunnel(this.proxy, options.host ?? "localhost", Number(options.port)).then((raw) => tls.connect({ ...(options as tls.ConnectionOptions), socket: raw }));
    return deliver(socket, callback);
  }
}

class HttpTunnelAgent extends http.Agent {
  constructor(
    private readonly proxy: URL,
    options: http.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: http.ClientRequestArgs, callback?: Callback): undefined {
    return deliver(tunnel(this.proxy, options.host ?? "localhost", Number(options.port)), callback);
  }
}

/** A TCP tunnel to host:port through an HTTP proxy (CONNECT), with the URL's user:password as basic auth. */
export function tunnel(proxy: URL, host: string, port: number): Promise<Socket> {
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const user = decodeURIComponent(proxy.username);
  const auth = user ? { "Proxy-Authorization": `Basic ${Buffer.from(`${user}:${decodeURIComponent(proxy.password)}`).toString("base64")}` } : {};
  const fail = (why: string, cause?: unknown) =>
    new ConnectionError(`cannot open a tunnel to ${target} through the proxy ${proxy.host} (${why}); check proxy-url, HTTPS_PROXY and NO_PROXY`, { cause });
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: proxy.port || 80,
      method: "CONNECT",
      path: target,
      headers: { Host: target, ...auth },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer in ${CONNECT_TIMEOUT_MS / 1000}s`), { code: "ETIMEDOUT" })), CONNECT_TIMEOUT_MS);
    req.once("connect", (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(fail(`it answered ${res.statusCode} ${res.statusMessage ?? ""}`.trim()));
        return;
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    req.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(fail(`${err.code ?? "error"}: ${err.message}`, err));
    });
    req.end();
  });
}
