import http from "node:http";
import https from "node:https";
import { WebSocket } from "ws";
import { FIELD_MANAGER } from "../api/group.js";
import { ApiError, ConnectionError, isApiError } from "../errors.js";
import { apiServerAgent } from "./agent.js";
import type {
  DeleteOptions,
  KubeClient,
  KubeObject,
  ListOptions,
  LogOptions,
  ObjectList,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from "./client.js";
import { resourceFor, type ResourceType } from "./resources.js";
import { impersonationHeaders } from "./impersonation.js";
import { JsonLineSplitter } from "./json-lines.js";
import type { ClusterCredentials } from "./kubeconfig.js";

const REQUEST_TIMEOUT_MS = 30_000;

const PATCH_CONTENT_TYPES: Record<PatchType | "apply", string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

/** The REST path of a collection or, with a name, of one object. */
export function resourcePath(type: ResourceType, namespace: string | undefined, name?: string, subresource?: string): string {
  const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const obj = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  return `${base}${ns}/${type.plural}${obj}${subresource ? `/${subresource}` : ""}`;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== "") as [string, string | number | boolean][];
  if (!entries.length) return "";
  return "?" + entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&");
}

interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** Maps a failed response body to an ApiError carrying the server's own message. */
export function apiErrorFrom(statusCode: number, body: string): ApiError {
  let status: Status = {};
  try {
    status = JSON.parse(body) as Status;
  } catch {
    // Not a Status object (a proxy in the way): use the raw text.
  }
  const message = status.message ?? (body.trim() || http.STATUS_CODES[statusCode] || "error");
  return new ApiError(statusCode, status.reason ?? http.STATUS_CODES[statusCode] ?? "Unknown", message);
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EPIPE"]);

function connectionError(server: string, err: NodeJS.ErrnoException): ConnectionError | NodeJS.ErrnoException {
  const tls = err.code?.startsWith("ERR_TLS") || err.code?.includes("CERT") || err.code === "DEPTH_ZERO_SELF_SIGNED_CERT";
  if (!tls && !CONNECTION_CODES.has(err.code ?? "")) return err;
  const hint = tls ? "the server's certificate is not trusted by the kubeconfig's CA" : "is the cluster up, and is this the right --context/--kubeconfig?";
  return new ConnectionError(`cannot reach the Kubernetes API at ${server} (${err.code}: ${err.message}); ${hint}`, { cause: err });
}

/**
 * KubeClient over node's https, authenticated as the kubeconfig says (client certificates,
 * tokens, exec plugins, impersonation, the in-cluster ServiceAccount), with one keep-alive
 * connection pool, through the cluster's proxy if it has one.
 */
export class HttpKubeClient implements KubeClient {
  private readonly server: URL;
  private readonly agent: http.Agent;
  private readonly impersonation: Record<string, string | string[]>;

  constructor(
    private readonly credentials: ClusterCredentials,
    readonly defaultNamespace: string,
  ) {
    this.server = new URL(credentials.server);
    this.agent = apiServerAgent(this.server, credentials);
    this.impersonation = impersonationHeaders(credentials.impersonate);
  }

  get serverUrl(): string {
    return this.server.origin;
  }

  /** Headers and client certificate, fresh per request: tokens and exec certificates rotate. */
  private async identity(headers: Record<string, string>): Promise<{ headers: http.OutgoingHttpHeaders; cert?: Buffer; key?: Buffer }> {
    const [authorization, { cert, key }] = await Promise.all([this.credentials.authorization(), this.credentials.tlsIdentity()]);
    return { headers: { ...headers, ...this.impersonation, ...(authorization ? { Authorization: authorization } : {}) }, cert, key };
  }

  /** Request options with fresh credentials on the shared agent. */
  private async options(method: string, path: string, headers: Record<string, string>): Promise<https.RequestOptions> {
    const isHttps = this.server.protocol === "https:";
    return {
      method,
      ...(await this.identity(headers)),
      agent: this.agent,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ""),
      port: this.server.port || (isHttps ? 443 : 80),
      path: this.server.pathname.replace(/\/$/, "") + path,
    };
  }

  /**
   * One request; resolves with the response once its headers arrive. A 401 can mean that an
   * exec plugin's credential was revoked or expired early: then it is retried once, fresh.
   */
  private async open(method: string, path: string, body: string | undefined, headers: Record<string, string>, signal?: AbortSignal, timeoutMs?: number): Promise<http.IncomingMessage> {
    const res = await this.send(method, path, body, headers, signal, timeoutMs);
    if (res.statusCode !== 401 || !this.credentials.invalidate()) return res;
    res.resume();
    return this.send(method, path, body, headers, signal, timeoutMs);
  }

  private async send(method: string, path: string, body: string | undefined, headers: Record<string, string>, signal?: AbortSignal, timeoutMs?: number): Promise<http.IncomingMessage> {
    const opts = await this.options(method, path, { Accept: "application/json", ...headers, ...(body !== undefined ? { "Content-Length": String(Buffer.byteLength(body)) } : {}) });
    const transport = this.server.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request({ ...opts, signal }, resolve);
      req.on("error", (err: NodeJS.ErrnoException) => reject(connectionError(this.server.origin, err)));
      if (timeoutMs) {
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs / 1000}s`), { code: "ETIMEDOUT" })));
      }
      req.end(body);
    });
  }

  private async request<T>(method: string, path: string, body?: unknown, contentType = "application/json", accept?: string): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers = { ...(text !== undefined ? { "Content-Type": contentType } : {}), ...(accept ? { Accept: accept } : {}) };
    const res = await this.open(method, path, text, headers, undefined, REQUEST_TIMEOUT_MS);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const payload = Buffer.concat(chunks).toString("utf8");
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw apiErrorFrom(code, payload);
    return (payload ? JSON.parse(payload) : {}) as T;
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", resourcePath(type, namespace, name));
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList<T>> {
    const q = query({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector });
    // Metadata only: the API server leaves out what could be large (Secret data).
    const accept = options.metadataOnly ? "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1" : undefined;
    const list = await this.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>("GET", resourcePath(type, namespace) + q, undefined, undefined, accept);
    const apiVersion = type.group === "" ? type.version : `${type.group}/${type.version}`;
    // List items come without apiVersion and kind; put them back so objects stand alone.
    const items = (list.items ?? []).map((item) => ({ ...item, apiVersion, kind: type.kind }));
    return { items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  async create<T extends KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
    const type = resourceFor(object.apiVersion, object.kind);
    return this.request<T>("POST", resourcePath(type, object.metadata.namespace) + query({ dryRun: options.dryRun ? "All" : undefined }), object);
  }

  async replace<T extends KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
    const type = resourceFor(object.apiVersion, object.kind);
    const path = resourcePath(type, object.metadata.namespace, object.metadata.name ?? "");
    return this.request<T>("PUT", path + query({ dryRun: options.dryRun ? "All" : undefined }), object);
  }

  async apply<T extends KubeObject>(object: T, options: WriteOptions & { force?: boolean; fieldManager?: string } = {}): Promise<T> {
    const type = resourceFor(object.apiVersion, object.kind);
    const path = resourcePath(type, object.metadata.namespace, object.metadata.name ?? "");
    const q = query({ fieldManager: options.fieldManager ?? FIELD_MANAGER, force: options.force || undefined, dryRun: options.dryRun ? "All" : undefined });
    return this.request<T>("PATCH", path + q, object, PATCH_CONTENT_TYPES.apply);
  }

  async patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, patchType: PatchType = "merge"): Promise<T> {
    return this.request<T>("PATCH", resourcePath(type, namespace, name), patch, PATCH_CONTENT_TYPES[patchType]);
  }

  async patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: unknown, options: { resourceVersion?: string } = {}): Promise<T> {
    // A resourceVersion in a merge patch is a precondition: the API server answers 409 when it is not the current one.
    const body = options.resourceVersion ? { metadata: { resourceVersion: options.resourceVersion }, status } : { status };
    return this.request<T>("PATCH", resourcePath(type, namespace, name, "status"), body, PATCH_CONTENT_TYPES.merge);
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<boolean> {
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
      ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
      ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
      ...(options.dryRun ? { dryRun: ["All"] } : {}),
    };
    try {
      await this.request("DELETE", resourcePath(type, namespace, name), body);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.isNotFound) return false;
      throw err;
    }
  }

  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const q = query({
      watch: 1,
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: options.allowWatchBookmarks ?? true,
      timeoutSeconds: options.timeoutSeconds,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    });
    let res: http.IncomingMessage;
    try {
      // Metadata only: each event's object is a PartialObjectMetadata (no Secret data).
      const headers: Record<string, string> = options.metadataOnly ? { Accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1" } : {};
      res = await this.open("GET", resourcePath(type, namespace) + q, undefined, headers, signal);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw apiErrorFrom(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
    }
    const lines = new JsonLineSplitter();
    try {
      for await (const chunk of res) {
        for (const line of lines.push(chunk as Buffer)) {
          const event = JSON.parse(line) as { type: string; object: T & Status };
          if (event.type === "ERROR") throw apiErrorFrom(event.object.code ?? 500, JSON.stringify(event.object));
          onEvent(event as WatchEvent<T>);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError) throw err;
      throw connectionError(this.server.origin, err as NodeJS.ErrnoException);
    }
  }

  async logs(namespace: string, pod: string, options: LogOptions, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    const q = query({
      container: options.container,
      follow: options.follow || undefined,
      timestamps: options.timestamps || undefined,
      sinceTime: options.sinceTime,
      tailLines: options.tailLines,
    });
    const res = await this.open("GET", resourcePath({ group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true }, namespace, pod, "log") + q, undefined, { Accept: "*/*" }, signal);
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw apiErrorFrom(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
    }
    return res;
  }

  async review<T extends KubeObject>(object: T): Promise<T> {
    const type = resourceFor(object.apiVersion, object.kind);
    return this.request<T>("POST", resourcePath(type, undefined), object);
  }

  async websocket(path: string, protocols: string[]): Promise<WebSocket> {
    try {
      return await this.openWebsocket(path, protocols);
    } catch (err) {
      // As for requests: a rejected exec credential gets one fresh try.
      if (!isApiError(err, 401) || !this.credentials.invalidate()) throw err;
      return this.openWebsocket(path, protocols);
    }
  }

  /** The upgrade goes through the shared agent, so it gets the same TLS settings and proxy. */
  private async openWebsocket(path: string, protocols: string[]): Promise<WebSocket> {
    const url = `${this.server.protocol === "https:" ? "wss" : "ws"}://${this.server.host}${this.server.pathname.replace(/\/$/, "")}${path}`;
    const socket = new WebSocket(url, protocols, { agent: this.agent, ...(await this.identity({})) });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => reject(apiErrorFrom(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))));
      });
      socket.once("error", (err: NodeJS.ErrnoException) => reject(connectionError(this.server.origin, err)));
    });
    return socket;
  }

  /** Closes idle keep-alive connections so that a CLI process can exit at once. */
  close(): void {
    this.agent.destroy();
  }
}
