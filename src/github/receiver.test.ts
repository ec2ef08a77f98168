import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { webhookExample } from "../../test/harness/fake-github.js";
import { createLogger } from "../log.js";
import { createWebhookReceiver, RecentDeliveries, type Delivery, type ReceiverOptions, type WebhookReceiver } from "./receiver.js";
import { signPayload } from "./signature.js";

const secret = "webhook-secret-0123456789";

interface Answer {
  status: number;
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((ok) => s.close(ok));
  }
});

/** A receiver on a real HTTP server, recording deliveries and log lines. */
async function start(options: Partial<ReceiverOptions> = {}) {
  const handled: Delivery[] = [];
  const logs: string[] = [];
  const logger = createLogger({ name: "github", level: "debug", destination: { write: (line: string) => logs.push(line) } });
  const receiver: WebhookReceiver = createWebhookReceiver({
    secret,
    logger,
    handleDelivery: (d) => {
      handled.push(d);
      return Promise.resolve();
    },
    ...options,
  });
  const server = createServer(receiver.listener);
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { receiver, handled, logs, url };
}

/** Sends a request; `chunks` are written one by one (chunked encoding unless content-length is given). */
function send(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; chunks?: (string | Buffer)[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${options.path ?? "/"}`, { method: options.method ?? "POST", headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") }));
    });
    req.on("error", reject);
    let stop = false;
    req.on("response", () => (stop = true));
    const chunks = [...(options.chunks ?? [])];
    const next = () => {
      const chunk = chunks.shift();
      if (stop || chunk === undefined) return void req.end();
      req.write(chunk, () => setImmediate(next));
    };
    next();
  });
}

/** A signed delivery of `payload` as GitHub sends it. */
function delivery(event: string, payload: unknown, id: string = crypto.randomUUID(), sign: (body: string) => string | undefined = (b) => signPayload(secret, b)) {
  const body = JSON.stringify(payload);
  const signature = sign(body);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "GitHub-Hookshot/abc123",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": id,
    "X-GitHub-Hook-Installation-Target-Type": "integration",
    ...(signature !== undefined ? { "X-Hub-Signature-256": signature } : {}),
  };
  return { headers, chunks: [body] };
}

function pullRequestOpened() {
  const payload = webhookExample("pull_request", "opened");
  payload.repository.full_name = "team-a/infra";
  payload.pull_request.title = "a title that must not be logged";
  return payload;
}

describe("webhook receiver", () => {
  it("accepts a signed delivery with 202 and hands it to the queue", async () => {
    const { receiver, handled, url } = await start();
    const payload = pullRequestOpened();
    const answer = await send(url, delivery("pull_request", payload, "d-1"));
    expect(answer.status).toBe(202);
    await receiver.idle();
    expect(handled).toEqual([{ event: "pull_request", delivery: "d-1", payload }]);
  });

  it("refuses an unsigned delivery and a wrong signature with 401 and queues nothing", async () => {
    const { receiver, handled, url } = await start();
    const unsigned = await send(url, delivery("pull_request", pullRequestOpened(), "d-1", () => undefined));
    const wrong = await send(url, delivery("pull_request", pullRequestOpened(), "d-2", (b) => signPayload("another secret", b)));
    const sha1 = await send(url, delivery("pull_request", pullRequestOpened(), "d-3", () => "sha1=0123456789abcdef0123456789abcdef01234567"));
    expect([unsigned.status, wrong.status, sha1.status]).toEqual([401, 401, 401]);
    expect(JSON.parse(unsigned.body)).toEqual({ message: "signature missing" });
    await receiver.idle();
    expect(handled).toEqual([]);
  });

  it("checks the signature before it parses JSON: bad JSON is 401 unsigned, 400 signed", async () => {
    const { handled, url } = await start();
    const headers = { "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1", "Content-Type": "application/json" };
    const unsigned = await send(url, { headers, chunks: ["{not json"] });
    const signed = await send(url, { headers: { ...headers, "X-Hub-Signature-256": signPayload(secret, "{not json") }, chunks: ["{not json"] });
    expect([unsigned.status, signed.status]).toEqual([401, 400]);
    expect(handled).toEqual([]);
  });

  it("refuses a body over the limit with 413, whether Content-Length says so or the stream shows it", async () => {
    const { receiver, handled, url, logs } = await start({ maxBodyBytes: 1024 });
    const declared = await send(url, { headers: { "Content-Length": String(30 * 1024 * 1024), "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1" }, chunks: ["{"] });
    const streamed = await send(url, { headers: { "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-2" }, chunks: ["x".repeat(600), "x".repeat(600), "x".repeat(600)] });
    expect([declared.status, streamed.status]).toEqual([413, 413]);
    await receiver.idle();
    expect(handled).toEqual([]);
    expect(logs.join("")).toContain("over the size limit");
  });

  it("lets go of a client that hangs up mid-body", async () => {
    const { receiver, handled, url, logs } = await start();
    await new Promise<void>((resolve) => {
      const req = request(`${url}/`, { method: "POST", headers: { "Content-Length": "1000", "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1" } });
      req.on("error", () => undefined);
      req.on("close", () => resolve());
      req.write("{", () => setTimeout(() => req.destroy(), 20));
    });
    for (let i = 0; i < 100 && !logs.join("").includes("hung up"); i++) await new Promise((ok) => setTimeout(ok, 10));
    expect(logs.join("")).toContain("hung up before its body ended");
    await receiver.idle();
    expect(handled).toEqual([]);
  });

  it("takes a body of exactly the limit", async () => {
    const payload = { zen: "" };
    const size = JSON.stringify(payload).length;
    const { url } = await start({ maxBodyBytes: size });
    expect((await send(url, delivery("ping", payload))).status).toBe(202);
  });

  it("answers a delivery already taken with 200 and does not queue it again", async () => {
    const { receiver, handled, url } = await start();
    const first = await send(url, delivery("pull_request", pullRequestOpened(), "same-id"));
    const again = await send(url, delivery("pull_request", pullRequestOpened(), "same-id"));
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(JSON.parse(again.body)).toEqual({ message: "already handled" });
    await receiver.idle();
    expect(handled).toHaveLength(1);
  });

  it("lets a redelivery through when handling the first one failed", async () => {
    let calls = 0;
    const { receiver, url } = await start({
      handleDelivery: () => (++calls === 1 ? Promise.reject(new Error("the cluster is away")) : Promise.resolve()),
    });
    expect((await send(url, delivery("pull_request", pullRequestOpened(), "d-1"))).status).toBe(202);
    await receiver.idle();
    expect((await send(url, delivery("pull_request", pullRequestOpened(), "d-1"))).status).toBe(202);
    await receiver.idle();
    expect(calls).toBe(2);
  });

  it("uses the delivery set it is given", async () => {
    const deliveries = new RecentDeliveries(1);
    const { receiver, handled, url } = await start({ deliveries });
    await send(url, delivery("ping", { zen: "a" }, "d-1"));
    await send(url, delivery("ping", { zen: "b" }, "d-2")); // pushes d-1 out of a set of one
    await send(url, delivery("ping", { zen: "c" }, "d-1"));
    await receiver.idle();
    expect(handled.map((d) => d.delivery)).toEqual(["d-1", "d-2", "d-1"]);
  });

  it("handles at most `concurrency` deliveries at once and answers before they finish", async () => {
    let running = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const { receiver, url } = await start({
      concurrency: 2,
      handleDelivery: async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((ok) => release.push(ok));
        running--;
      },
    });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => send(url, delivery("ping", { zen: String(i) }))));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    while (release.length > 0 || running > 0) {
      release.shift()?.();
      await new Promise((ok) => setImmediate(ok));
    }
    await receiver.idle();
    expect(most).toBe(2);
  });

  it("answers 503 when its queue is full, and takes the same delivery later", async () => {
    const release: (() => void)[] = [];
    const { receiver, url } = await start({ concurrency: 1, maxQueued: 1, handleDelivery: () => new Promise<void>((ok) => release.push(ok)) });
    const statuses = [];
    for (const id of ["a", "b", "c"]) statuses.push((await send(url, delivery("ping", { zen: id }, id))).status);
    expect(statuses).toEqual([202, 202, 503]);
    for (let i = 0; i < 2; i++) {
      while (release.length === 0) await new Promise((ok) => setImmediate(ok));
      release.shift()?.();
    }
    await receiver.idle();
    expect((await send(url, delivery("ping", { zen: "c" }, "c"))).status).toBe(202);
    while (release.length === 0) await new Promise((ok) => setImmediate(ok));
    release.shift()?.();
    await receiver.idle();
  });

  it("answers GET /healthz, refuses other methods and, with a path, other paths", async () => {
    const { url } = await start({ path: "/github/webhook" });
    expect((await send(url, { method: "GET", path: "/healthz" })).status).toBe(200);
    expect((await send(url, { method: "GET", path: "/github/webhook" })).status).toBe(405);
    expect((await send(url, { ...delivery("ping", { zen: "z" }), path: "/other" })).status).toBe(404);
    expect((await send(url, { ...delivery("ping", { zen: "z" }), path: "/github/webhook" })).status).toBe(202);
  });

  it("needs the event and delivery headers, and JSON rather than a form", async () => {
    const { url } = await start();
    const body = JSON.stringify({ zen: "z" });
    const signature = signPayload(secret, body);
    const noEvent = await send(url, { headers: { "X-GitHub-Delivery": "d", "X-Hub-Signature-256": signature }, chunks: [body] });
    const form = await send(url, {
      headers: { "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d", "X-Hub-Signature-256": signature, "Content-Type": "application/x-www-form-urlencoded" },
      chunks: [body],
    });
    expect([noEvent.status, form.status]).toEqual([400, 415]);
  });

  it("logs neither the secret nor the payload", async () => {
    const { receiver, url, logs } = await start();
    await send(url, delivery("pull_request", pullRequestOpened(), "d-1"));
    await send(url, delivery("pull_request", pullRequestOpened(), "d-2", (b) => signPayload("wrong", b)));
    await receiver.idle();
    const text = logs.join("");
    expect(text).toContain("Accepted a GitHub delivery");
    expect(text).toContain('"delivery":"d-1"');
    expect(text).toContain("bad signature");
    expect(text).not.toContain(secret);
    expect(text).not.toContain("a title that must not be logged");
    expect(text).not.toContain("sha256=");
  });
});

describe("webhook receiver with a durable record", () => {
  it("keeps a delivery before the 202, answers a kept one 'already handled', does not queue one to ignore, and 503s when it cannot keep it", async () => {
    const kept = new Map<string, string>();
    let failing = false;
    const { receiver, handled, url } = await start({
      record: (d) => {
        if (failing) return Promise.reject(new Error("etcd is down"));
        if (d.event === "ping") return Promise.resolve("ignored");
        if (kept.has(d.delivery)) return Promise.resolve("known");
        kept.set(d.delivery, d.event);
        return Promise.resolve("new");
      },
      // A fresh in-memory set each time: only the durable record remembers.
      deliveries: { add: () => true, delete: () => undefined },
    });
    expect((await send(url, delivery("pull_request", pullRequestOpened(), "d-1"))).status).toBe(202);
    expect(kept.get("d-1")).toBe("pull_request");
    const again = await send(url, delivery("pull_request", pullRequestOpened(), "d-1"));
    expect(again.status).toBe(200);
    expect(again.body).toContain("already handled");
    expect((await send(url, delivery("ping", { zen: "hi" }, "d-2"))).status).toBe(202);
    failing = true;
    expect((await send(url, delivery("pull_request", pullRequestOpened(), "d-3"))).status).toBe(503);
    await receiver.idle();
    expect(handled.map((d) => d.delivery)).toEqual(["d-1"]);
  });
});
