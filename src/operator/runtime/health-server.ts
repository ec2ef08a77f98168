import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthState {
  /** Informers have synced (a replica without shards is ready too: it can take some over at once). */
  ready: () => boolean;
  /** What this replica works on (its shards), for /readyz. */
  role: () => string;
}

/** /healthz (alive), /readyz (synced; says which shards) and /metrics. */
export class HealthServer {
  private readonly server: http.Server;

  constructor(
    private readonly state: HealthState,
    private readonly registry: Registry,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") return send(res, 200, "ok\n");
    if (path === "/readyz") return this.state.ready() ? send(res, 200, `ok: ${this.state.role()}\n`) : send(res, 503, "not ready: informers syncing\n");
    if (path === "/metrics") {
      const body = await this.registry.metrics();
      res.writeHead(200, { "Content-Type": this.registry.contentType });
      res.end(body);
      return;
    }
    send(res, 404, "not found\n");
  }

  listen(port: number, host = "0.0.0.0"): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function send(res: http.ServerResponse, code: number, body: string): void {
  res.writeHead(code, { "Content-Type": "text/plain" });
  res.end(body);
}
