/** A TFC API server in a fetch function, for unit tests of what the client sends and makes of answers. */
import type { Fetch } from "../../src/cloud/tfc-client.js";

export interface Call {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;

/** A fetch that answers from a table of "METHOD /path" handlers and records every call. */
export function fakeServer(routes: Record<string, Handler>) {
  const calls: Call[] = [];
  const fetch: Fetch = async (url, init) => {
    const u = new URL(url);
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const body: unknown = typeof init.body === "string" ? JSON.parse(init.body) : init.body;
    const call: Call = { method: init.method ?? "GET", url: u, headers, body };
    calls.push(call);
    const handler = routes[`${call.method} ${u.pathname}`];
    return handler ? handler(call) : new Response("404 page not found\n", { status: 404, statusText: "Not Found" });
  };
  return { calls, fetch };
}

export const json = (doc: unknown, status = 200) => new Response(JSON.stringify(doc), { status, headers: { "Content-Type": "application/vnd.api+json" } });
export const noContent = () => new Response(null, { status: 204 });
