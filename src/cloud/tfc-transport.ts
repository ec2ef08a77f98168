import type { z } from "zod";
import { parseOrThrow } from "../api/validate.js";
import { CloudApiError, CloudAuthError, CloudConnectionError, isCloudApiError } from "../errors.js";
import { sleep as realSleep } from "../sleep.js";
import { list } from "./tfc-resources.js";

/** The fetch function the client calls: globalThis.fetch, or a test's. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export interface TfcConnection {
  /**
   * The TFC/TFE host, as in a credentials block: "app.terraform.io". One with a scheme
   * ("http://127.0.0.1:8833") is that server's origin, for test servers without TLS.
   */
  hostname: string;
  token: string;
  fetch: Fetch;
  /** The API's root instead of https://HOST/api/v2. */
  baseUrl?: string;
  /** Each request's time limit; 30 s unless given. */
  timeoutMs?: number;
  /** Waits between polls and retries of a rate-limited request (429); resolves early on abort. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** Values sent in this request that must not appear in an error message (sensitive variables). */
  secrets?: readonly string[];
}

const MEDIA_TYPE = "application/vnd.api+json";
const RATE_LIMIT_RETRIES = 5;
const PAGE_SIZE = 100;

/** The API's root for a hostname, and the host that messages name. */
export function apiRoot(hostname: string, baseUrl?: string): { baseUrl: string; host: string } {
  const origin = /^https?:\/\//.test(hostname) ? hostname.replace(/\/+$/, "") : `https://${hostname}`;
  const root = (baseUrl ?? `${origin}/api/v2`).replace(/\/+$/, "");
  return { baseUrl: root, host: new URL(origin).host };
}

/**
 * JSON:API requests with the token, errors as CloudApiError / CloudAuthError, and
 * signed URLs (upload-url, log-read-url) fetched without it.
 */
export class TfcTransport {
  readonly baseUrl: string;
  readonly host: string;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly connection: TfcConnection) {
    ({ baseUrl: this.baseUrl, host: this.host } = apiRoot(connection.hostname, connection.baseUrl));
    this.timeoutMs = connection.timeoutMs ?? 30_000;
    this.sleep = connection.sleep ?? realSleep;
  }

  pause(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleep(ms, signal);
  }

  /** Sends a JSON:API request; the parsed answer, or undefined for 204 and an empty body. */
  async call<S extends z.ZodType>(method: string, path: string, schema: S, options?: RequestOptions): Promise<z.output<S>>;
  async call(method: string, path: string, schema?: undefined, options?: RequestOptions): Promise<undefined>;
  async call<S extends z.ZodType>(method: string, path: string, schema?: S, options: RequestOptions = {}): Promise<z.output<S> | undefined> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const init: RequestInit = {
      method,
      headers: { Authorization: `Bearer ${this.connection.token}`, Accept: MEDIA_TYPE, ...(options.body === undefined ? {} : { "Content-Type": MEDIA_TYPE }) },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    };
    const request = `${method} ${path}`;
    const response = await this.send(url.toString(), init, request, this.timeoutMs);
    const body = await response.text();
    if (!response.ok) throw this.error(response, body, request, options.secrets ?? []);
    if (!schema) return undefined;
    let doc: unknown;
    try {
      doc = body ? JSON.parse(body) : undefined;
    } catch {
      throw new CloudApiError(this.host, response.status, request, `${this.host} answered ${request} with something that is not JSON; is ${this.baseUrl} a TFC/TFE API?`);
    }
    return parseOrThrow(schema, doc, `answer of ${this.host} to ${request}`);
  }

  /**
   * A signed URL of the server's (an upload-url, a log-read-url): resolved against the API's
   * root, since OTF gives them as paths, and fetched without the token.
   */
  async signed(url: string, init: RequestInit, what: string, timeoutMs = this.timeoutMs): Promise<Response> {
    const absolute = new URL(url, `${this.baseUrl}/`);
    const response = await this.send(absolute.toString(), init, `${init.method ?? "GET"} ${what}`, timeoutMs);
    if (!response.ok) throw this.error(response, await response.text(), `${init.method ?? "GET"} ${what}`, []);
    return response;
  }

  private async send(url: string, init: RequestInit, request: string, timeoutMs: number): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.connection.fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        throw this.connectionError(err, request, timeoutMs);
      }
      if (response.status !== 429 || attempt >= RATE_LIMIT_RETRIES) return response;
      await response.body?.cancel();
      // TFC says in X-RateLimit-Reset how many seconds (a decimal) until the limit resets.
      const reset = Number(response.headers.get("x-ratelimit-reset"));
      await this.sleep(Number.isFinite(reset) && reset > 0 ? Math.min(reset * 1000, 60_000) : 1000 * 2 ** attempt);
    }
  }

  private connectionError(err: unknown, request: string, timeoutMs: number): CloudConnectionError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = (err as Error).name === "TimeoutError" ? `no answer in ${timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? String(err));
    return new CloudConnectionError(`cannot reach ${this.host} for ${request} (${why}); check the hostname and the network`, { cause: err });
  }

  private error(response: Response, body: string, request: string, secrets: readonly string[]): CloudApiError {
    if (response.status === 401) return new CloudAuthError(this.host, request);
    let detail = errorDetail(body);
    for (const secret of [this.connection.token, ...secrets]) if (secret) detail = detail.replaceAll(secret, "***");
    const hint = response.status === 404 ? " (TFC also answers 404 for what the token may not see)" : "";
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    return new CloudApiError(this.host, response.status, request, `${this.host} answered ${status} to ${request}${detail ? `: ${detail}` : ""}${hint}`);
  }
}

/** A JSON:API error document's titles and details, or the start of a plain answer. */
function errorDetail(body: string): string {
  try {
    const doc = JSON.parse(body) as { errors?: { title?: string; detail?: string }[] };
    if (Array.isArray(doc.errors)) {
      return doc.errors.map((e) => [e.title, e.detail].filter((s) => typeof s === "string" && s).join(": ")).filter(Boolean).join("; ");
    }
  } catch {
    // not JSON: the text itself
  }
  const line = body.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Every page of a paginated list (page[number], meta.pagination.next-page). */
export async function allPages<R extends z.ZodType>(t: TfcTransport, path: string, data: R, query: Record<string, string> = {}): Promise<z.output<R>[]> {
  const items: z.output<R>[] = [];
  const schema = list(data);
  for (let page = 1; ; ) {
    const doc: z.output<typeof schema> = await t.call("GET", path, schema, { query: { ...query, "page[number]": page, "page[size]": PAGE_SIZE } });
    items.push(...(doc.data as z.output<R>[]));
    const next = doc.meta?.pagination?.["next-page"];
    if (!next) return items;
    page = next;
  }
}

/** undefined instead of a 404. */
export async function unlessNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isCloudApiError(err, 404)) return undefined;
    throw err;
  }
}
