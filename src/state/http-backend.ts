import http from "node:http";
import type { AddressInfo } from "node:net";
import type { StateAccess } from "../api/commands.js";
import { StateAccessError, StateConflictError, UsageError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { StateReport } from "./state-report.js";
import type { LockInfo, StateLock } from "./state-lock.js";
import type { StateStore } from "./state-store.js";
import type { StateWriter } from "./state-versions.js";

/** The engine's side of the conversation: its `http` backend pointed at us. */
export const STATE_PATH = "/state";
export const LOCK_PATH = "/lock";
export const PLAN_PATH = "/plan";
/** Where the runner hands over a state the engine could not save (its errored.tfstate). */
export const ERRORED_PATH = "/errored";
/** The plan's summary travels with the plan file, as JSON in this header. */
export const PLAN_SUMMARY_HEADER = "x-ktf-plan-summary";

export interface StateBackendOptions {
  store: StateStore;
  lock: StateLock;
  log: Logger;
  /** What the run's command may do to the state (src/api/commands.ts). */
  access: StateAccess;
  /** Who the writes are recorded as. */
  writer: StateWriter & { run: string };
  /** What the sidecar tells the operator when the run ends. */
  report: StateReport;
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
    if (size > max) throw new StateAccessError(413, `request body over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: http.ServerResponse, status: number, payload?: string | Buffer, type = "application/json"): void {
  res.writeHead(status, payload === undefined ? {} : { "Content-Type": type });
  res.end(payload);
}

function statusOf(err: unknown): number {
  if (err instanceof StateAccessError) return err.status;
  if (err instanceof StateConflictError) return 409;
  if (err instanceof UsageError) return 400;
  return 500;
}

function lockInfo(bytes: Buffer): LockInfo {
  const info = JSON.parse(bytes.toString("utf8") || "{}") as Partial<LockInfo>;
  if (typeof info.ID !== "string" || !info.ID) throw new StateAccessError(400, "the lock request has no ID");
  return info as LockInfo;
}

/**
 * terraform's `http` state backend protocol, served on the run pod's loopback by the state
 * sidecar. Every process of the run's container can reach it, the configuration's own code
 * included, so it grants only what the run's command needs: reads and the run's own lock
 * for commands that read, a write only with the lock this run holds and only for commands
 * that write, a state that continues the current one, and never a delete.
 */
export function createStateBackend(o: StateBackendOptions): http.Server {
  const max = o.maxBodyBytes ?? MAX_BODY;
  /** The lock IDs this run's engine was granted: the only ones it may write with or release. */
  const ownLocks = new Set<string>();
  /** The newest state this run wrote: what it reads back (the mounted snapshot is older). */
  let written: Buffer | undefined;
  let planPosts = 0;

  return http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      const status = statusOf(err);
      const route = `${req.method ?? ""} ${new URL(req.url ?? "/", "http://localhost").pathname}`;
      if (status < 500) o.report.refused(route, status, errorMessage(err));
      o.log.warn({ route, status, err: errorMessage(err) }, status < 500 ? "Refused a state request" : "State request failed");
      send(res, status, JSON.stringify({ error: errorMessage(err) }));
    });
  });

  function requireAccess(needed: StateAccess, what: string): void {
    const granted = o.access === needed || (needed === "read");
    if (!granted) throw new StateAccessError(403, `${what} is not allowed for this run's command (its state access is ${o.access})`);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = `${req.method ?? ""} ${url.pathname}`;
    switch (route) {
      case "GET /healthz":
        return send(res, 200, "ok", "text/plain");
      case `GET ${STATE_PATH}`: {
        const state = written ?? (await o.store.read());
        return state ? send(res, 200, state) : send(res, 204);
      }
      case `POST ${STATE_PATH}`: {
        requireAccess("write", "writing the state");
        const id = url.searchParams.get("ID") ?? "";
        if (!ownLocks.has(id)) throw new StateAccessError(423, id ? `lock ID ${id} is not this run's: a write needs the lock this run holds` : "a write needs the state lock (-lock=false writes are refused)");
        const holder = await o.lock.holder();
        if (holder?.ID !== id) throw new StateAccessError(423, `the state's lock is no longer held by ${id}`);
        const bytes = await body(req, max);
        const { version, unchanged } = await o.store.write(bytes, o.writer);
        written = bytes;
        if (!unchanged) o.report.wrote(version);
        o.log.info({ serial: version.serial, size: version.size, chunks: version.chunks, unchanged }, "Wrote the state");
        return send(res, 200);
      }
      case `DELETE ${STATE_PATH}`:
        throw new StateAccessError(405, "ktf never deletes a workspace's state (ktf state rollback makes an earlier version current)");
      case `LOCK ${LOCK_PATH}`: {
        const info = lockInfo(await body(req, max));
        const result = await o.lock.lock(info);
        if (result.ok) ownLocks.add(info.ID);
        o.log.info({ lock: info.ID, operation: info.Operation, ok: result.ok }, "Lock requested");
        return result.ok ? send(res, 200) : send(res, 423, JSON.stringify(result.holder));
      }
      case `GET ${LOCK_PATH}`: {
        // Not part of the engine's protocol: the runner reads who holds the lock to explain a failed force-unlock.
        requireAccess("unlock", "reading the lock's holder");
        const holder = await o.lock.holder();
        return holder ? send(res, 200, JSON.stringify(holder)) : send(res, 204);
      }
      case `UNLOCK ${LOCK_PATH}`: {
        const info = lockInfo(await body(req, max));
        if (!ownLocks.has(info.ID)) requireAccess("unlock", `releasing lock ${info.ID}, which this run did not take,`);
        const result = await o.lock.unlock(info.ID);
        if (result.ok) ownLocks.delete(info.ID);
        o.log.info({ lock: info.ID, ok: result.ok }, "Unlock requested");
        return result.ok ? send(res, 200) : send(res, 423, JSON.stringify(result.holder));
      }
      case `POST ${PLAN_PATH}`: {
        if (!o.savePlan) throw new StateAccessError(404, "this run does not save a plan");
        // One plan per run: a second post means something besides the runner posted, and
        // then neither is kept as the plan that was shown.
        if (++planPosts > 1) {
          o.report.planContested();
          throw new StateAccessError(409, "this run's plan was already posted; neither is kept");
        }
        const summary = o.report.planSummary(req.headers[PLAN_SUMMARY_HEADER]);
        const bytes = await body(req, max);
        const saved = await o.savePlan(bytes);
        o.report.planSaved(bytes, saved.chunks, summary);
        return send(res, 200, JSON.stringify(saved));
      }
      case `POST ${ERRORED_PATH}`: {
        requireAccess("write", "keeping a state the engine could not save");
        const version = await o.store.keepErrored(await body(req, max), o.writer);
        o.report.keptErrored(version);
        o.log.warn({ secret: version.name, serial: version.serial, size: version.size }, "Kept the state the engine could not save");
        return send(res, 200, JSON.stringify({ name: version.name }));
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
