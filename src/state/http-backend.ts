import http from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { LockInfo, LockResult, StateLock } from "./state-lock.js";
import type { StateStore } from "./state-store.js";

/** The engine's side of the conversation: its `http` backend pointed at us. */
export const STATE_PATH = "/state";
export const LOCK_PATH = "/lock";
export const PLAN_PATH = "/plan";

export interface StateBackendOptions {
  store: StateStore;
  lock: StateLock;
  log: Logger;
  /** Saves a plan file as the run's plan (only the run's own, so the name is fixed). */
  savePlan?: (bytes: Buffer) => Promise<{ chunks: number }>;
  /** The largest body accepted (a state or a plan). */
  maxBodyBytes?: number;
}

const MAX_BODY = 256 * 1024 * 1024;

async function body(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw Object.assign(new Error(`request body over ${max} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: http.ServerResponse, status: number, payload?: string | Buffer, type = "application/json"): void {
  res.writeHead(status, payload === undefined ? {} : { "Content-Type": type });
  res.end(payload);
}

function lockAnswer(res: http.ServerResponse, result: LockResult): void {
  // 423 with the holder's info is what the engine's http backend reports as "locked by".
  if (result.ok) send(res, 200);
  else send(res, 423, JSON.stringify(result.holder));
}

/**
 * terraform's `http` state backend protocol, served on the run pod's loopback by the state
 * sidecar: GET/POST/DELETE the state, LOCK/UNLOCK it. The engine's container has no
 * Kubernetes credentials at all; this server holds the run's, which reach only its
 * workspace's state Secret and lock Lease.
 */
export function createStateBackend(o: StateBackendOptions): http.Server {
  const max = o.maxBodyBytes ?? MAX_BODY;
  return http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      const status = (err as { status?: number }).status ?? 500;
      o.log.error({ method: req.method, path: req.url, err: errorMessage(err) }, "State request failed");
      send(res, status, JSON.stringify({ error: errorMessage(err) }));
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method ?? ""} ${url.pathname}`;
    switch (route) {
      case "GET /healthz":
        return send(res, 200, "ok", "text/plain");
      case `GET ${STATE_PATH}`: {
        const state = await o.store.read();
        return state ? send(res, 200, state) : send(res, 204);
      }
      case `POST ${STATE_PATH}`: {
        const id = url.searchParams.get("ID");
        const holder = await o.lock.holder();
        // A locked state is written only by the lock's holder.
        if (holder && id && holder.ID !== id) return send(res, 423, JSON.stringify(holder));
        await o.store.write(await body(req, max));
        o.log.info({}, "Wrote the state");
        return send(res, 200);
      }
      case `DELETE ${STATE_PATH}`:
        await o.store.delete();
        return send(res, 200);
      case `LOCK ${LOCK_PATH}`: {
        const info = JSON.parse((await body(req, max)).toString("utf8")) as LockInfo;
        const result = await o.lock.lock(info);
        o.log.info({ lock: info.ID, operation: info.Operation, ok: result.ok }, "Lock requested");
        return lockAnswer(res, result);
      }
      case `GET ${LOCK_PATH}`: {
        // Not part of the engine's protocol: the runner reads who holds the lock to explain a failed force-unlock.
        const holder = await o.lock.holder();
        return holder ? send(res, 200, JSON.stringify(holder)) : send(res, 204);
      }
      case `UNLOCK ${LOCK_PATH}`: {
        const info = JSON.parse((await body(req, max)).toString("utf8") || "{}") as LockInfo;
        const result = await o.lock.unlock(info.ID);
        o.log.info({ lock: info.ID, ok: result.ok }, "Unlock requested");
        return lockAnswer(res, result);
      }
      case `POST ${PLAN_PATH}`: {
        if (!o.savePlan) return send(res, 404, JSON.stringify({ error: "this run does not save a plan" }));
        return send(res, 200, JSON.stringify(await o.savePlan(await body(req, max))));
      }
      default:
        return send(res, 404, JSON.stringify({ error: `no route ${route}` }));
    }
  }
}

export function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}
