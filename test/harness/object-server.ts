import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The remote side of the test provider's ktftest_object: GET/PUT/DELETE /objects/NAME with
 * {"content": "..."}, kept in memory. Tests change `objects` directly to make drift.
 */
export class ObjectServer {
  readonly objects = new Map<string, string>();
  /** Every request, as "METHOD NAME", in order. */
  readonly log: string[] = [];
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: { host?: string; port?: number } = {}) {}

  /** The provider's `endpoint` (or KTFTEST_ENDPOINT). */
  get url(): string {
    return `http://${this.options.host ?? "127.0.0.1"}:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => reply(res, 500, { error: String(err) }));
    });
    await new Promise<void>((ok, fail) => server.once("error", fail).listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", ok));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/objects\/([^/]+)$/.exec(new URL(req.url ?? "/", "http://objects").pathname);
    if (!match?.[1]) return reply(res, 404, { error: "not an object path" });
    const name = decodeURIComponent(match[1]);
    this.log.push(`${req.method} ${name}`);
    const content = this.objects.get(name);
    switch (req.method) {
      case "GET":
        return content === undefined ? reply(res, 404, { error: "no such object" }) : reply(res, 200, { content });
      case "PUT": {
        const body = JSON.parse(await readBody(req)) as { content?: unknown };
        if (typeof body.content !== "string") return reply(res, 400, { error: "content must be a string" });
        this.objects.set(name, body.content);
        return reply(res, 200, { content: body.content });
      }
      case "DELETE":
        if (!this.objects.delete(name)) return reply(res, 404, { error: "no such object" });
        return reply(res, 204);
      default:
        return reply(res, 405, { error: "GET, PUT or DELETE" });
    }
  }
}

function reply(res: ServerResponse, status: number, body?: object): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
