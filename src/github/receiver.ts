import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { SIGNATURE_HEADER, signatureProblem } from "./signature.js";

/** One webhook delivery, signature checked and JSON parsed. */
export interface Delivery {
  /** `X-GitHub-Event`: "pull_request", "check_run", ... */
  event: string;
  /** `X-GitHub-Delivery`: GitHub's id of this delivery (a redelivery keeps it). */
  delivery: string;
  payload: unknown;
}

/** The delivery ids already taken, so that a redelivery is not acted on twice. */
export interface DeliverySet {
  /** Remembers `id`; false when it was already there. */
  add(id: string): boolean;
  /** Lets a later redelivery of `id` through again (its handling failed). */
  delete(id: string): void;
}

/**
 * The last `capacity` delivery ids, in memory: enough for GitHub's quick retries and manual
 * redeliveries, not a record across restarts or replicas (a Run's name made from the
 * delivery, or the check run's external_id, is the lasting guard).
 */
export class RecentDeliveries implements DeliverySet {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // A Set iterates in insertion order: the first is the oldest.
    for (const oldest of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(oldest);
    }
    return true;
  }

  delete(id: string): void {
    this.ids.delete(id);
  }
}

/** GitHub never sends a payload over 25 MiB. */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;

export interface ReceiverOptions {
  /** The App's webhook secret. */
  secret: string;
  /**
   * Acts on one accepted delivery. Called from the receiver's queue after the 202 was sent,
   * at most `concurrency` at once. A throw is logged and lets a redelivery through again.
   */
  handleDelivery: (delivery: Delivery) => Promise<void>;
  /**
   * Keeps a delivery durably before the 202 says it was accepted (a restart then loses
   * none): "known" when it was kept already (answered 200, not handled again), "ignored"
   * when it is nothing to act on (answered 202, not queued). A throw answers 503, so GitHub
   * may deliver it again.
   */
  record?: (delivery: Delivery) => Promise<"new" | "known" | "ignored">;
  logger: Logger;
  /** Deliveries handled at once (default 4). */
  concurrency?: number;
  /** Deliveries accepted but not yet started; past this the receiver answers 503 (default 1000). */
  maxQueued?: number;
  maxBodyBytes?: number;
  deliveries?: DeliverySet;
  /** The one path deliveries are POSTed to; any path when unset. */
  path?: string;
}

export interface WebhookReceiver {
  /** A request listener for an `http` or `https` server. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Resolves once no delivery is queued or being handled: for tests and graceful shutdown. */
  idle(): Promise<void>;
}

/**
 * GitHub's webhook endpoint. It checks the size and the signature before it parses
 * anything, answers 202 as soon as a delivery is queued (GitHub gives up after 10 s), and
 * handles deliveries from its own bounded queue. `GET /healthz` answers 200. The secret and
 * the payloads are never logged. A slow client is the server's to time out (Node's
 * `requestTimeout`, 300 s by default; GitHub itself gives up after 10 s).
 */
export function createWebhookReceiver(options: ReceiverOptions): WebhookReceiver {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_WEBHOOK_BODY_BYTES;
  const deliveries = options.deliveries ?? new RecentDeliveries();
  const log = options.logger;
  const queue = new WorkQueue(options.concurrency ?? 4, options.maxQueued ?? 1000);

  async function handle(delivery: Delivery): Promise<void> {
    try {
      await options.handleDelivery(delivery);
    } catch (err) {
      deliveries.delete(delivery.delivery);
      log.error({ delivery: delivery.delivery, event: delivery.event, err: errorMessage(err) }, "Handling a GitHub delivery failed");
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") return reply(res, 200, { status: "ok" });
    if (options.path !== undefined && path !== options.path) return reply(res, 404, { message: "Not Found" });
    if (req.method !== "POST") return reply(res, 405, { message: "POST only" }, { Allow: "POST" });

    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) {
      log.warn({ remote: req.socket.remoteAddress, maxBodyBytes }, "Refused a GitHub delivery over the size limit");
      return reply(res, 413, { message: `payload over ${maxBodyBytes} bytes` }, { Connection: "close" }, () => req.destroy());
    }
    const problem = signatureProblem(options.secret, body, header(req, SIGNATURE_HEADER));
    if (problem) {
      log.warn({ remote: req.socket.remoteAddress, delivery: header(req, "x-github-delivery"), problem }, "Refused a GitHub delivery: bad signature");
      return reply(res, 401, { message: `signature ${problem}` });
    }
    const event = header(req, "x-github-event");
    const id = header(req, "x-github-delivery");
    if (!event || !id) return reply(res, 400, { message: "X-GitHub-Event and X-GitHub-Delivery are required" });
    if ((header(req, "content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      return reply(res, 415, { message: "set the webhook's content type to application/json" });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      return reply(res, 400, { message: "the body is not JSON" });
    }

    if (!deliveries.add(id)) {
      log.info({ delivery: id, event }, "Skipped a GitHub delivery already handled");
      return reply(res, 200, { message: "already handled" });
    }
    const delivery = { event, delivery: id, payload };
    if (options.record) {
      let kept: Awaited<ReturnType<NonNullable<ReceiverOptions["record"]>>>;
      try {
        kept = await options.record(delivery);
      } catch (err) {
        deliveries.delete(id);
        log.error({ delivery: id, event, err: errorMessage(err) }, "Could not keep a GitHub delivery");
        return reply(res, 503, { message: "could not keep the delivery, redeliver later" }, { "Retry-After": "60" });
      }
      if (kept === "known") return reply(res, 200, { message: "already handled" });
      if (kept === "ignored") return reply(res, 202, { message: "nothing to do" });
    }
    if (!queue.push(() => handle(delivery))) {
      deliveries.delete(id);
      log.warn({ delivery: id, event }, "Refused a GitHub delivery: the queue is full");
      return reply(res, 503, { message: "busy, redeliver later" }, { "Retry-After": "60" });
    }
    log.info({ delivery: id, event, action: actionOf(payload) }, "Accepted a GitHub delivery");
    reply(res, 202, { message: "accepted" });
  }

  return {
    listener: (req, res) => {
      serve(req, res).catch((err: unknown) => {
        if (err instanceof ClientGoneError) return void log.info({ remote: req.socket.remoteAddress }, "A GitHub webhook client hung up before its body ended");
        log.error({ err: errorMessage(err) }, "Serving a GitHub webhook request failed");
        if (!res.headersSent) reply(res, 500, { message: "internal error" });
        else res.destroy();
      });
    },
    idle: () => queue.idle(),
  };
}

class ClientGoneError extends Error {}

/** The body, or undefined once it passes `maxBytes` (reading then stops). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) return Promise.resolve(undefined);
  return new Promise<Buffer | undefined>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData);
        req.pause();
        parts.length = 0;
        resolve(undefined);
        return;
      }
      parts.push(chunk);
    };
    let ended = false;
    req.on("data", onData);
    req.on("end", () => {
      ended = true;
      resolve(Buffer.concat(parts));
    });
    // A client that hangs up mid-body ("aborted"): settle, so that nothing waits on it for ever.
    req.on("error", () => reject(new ClientGoneError()));
    req.on("close", () => {
      if (!ended) reject(new ClientGoneError());
    });
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function actionOf(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null || !("action" in payload)) return undefined;
  return typeof payload.action === "string" ? payload.action : undefined;
}

function reply(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}, then?: () => void): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body), then);
}

/** Runs jobs at most `concurrency` at once, holding at most `maxQueued` that wait. */
class WorkQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  /** Queues a job that never throws; false when the queue is full. */
  push(job: () => Promise<void>): boolean {
    if (this.waiting.length >= this.maxQueued) return false;
    this.waiting.push(job);
    this.next();
    return true;
  }

  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    while (this.running < this.concurrency) {
      const job = this.waiting.shift();
      if (!job) break;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.next();
        if (this.running === 0 && this.waiting.length === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
  }
}
