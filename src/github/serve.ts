import { readFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { GITHUB_PORT } from "../install/manifests.js";
import { connectToCluster } from "../kube/connect.js";
import { createLogger } from "../log.js";
import { creatorAnnotations } from "../runs/creator.js";
import { GitHubApp, GITHUB_API_URL } from "./app-client.js";
import { APP_SECRET_DIR, APP_SECRET_DIR_ENV, readAppSecret } from "./app-secret.js";
import { createWebhookReceiver } from "./receiver.js";
import { GitHubService } from "./service.js";


/**
 * `ktf github serve`: the GitHub App's webhook receiver (what the ktf-github Deployment
 * runs). HTTPS with --tls-cert/--tls-key; plain HTTP behind an Ingress that terminates TLS
 * (GitHub sends webhooks only to a public URL). Runs until SIGTERM, then finishes what it
 * accepted (what it cannot is picked up after a restart: the delivery queue keeps it).
 */
export async function runGitHubReceiver(args: string[], env: NodeJS.ProcessEnv, signals: NodeJS.EventEmitter = process): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      namespace: { type: "string" },
      "watch-namespaces": { type: "string" },
      port: { type: "string" },
      address: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "github-api-url": { type: "string" },
      "app-dir": { type: "string" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
    },
    strict: true,
  });
  const port = Number(values.port ?? GITHUB_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a port number, got ${values.port}`);
  if (Boolean(values["tls-cert"]) !== Boolean(values["tls-key"])) throw new UsageError("--tls-cert and --tls-key go together");
  const namespace = values.namespace ?? env.KTF_NAMESPACE ?? "ktf-system";
  const log = createLogger({ name: "github", level: env.KTF_LOG_LEVEL ?? "info" });
  const secret = await readAppSecret(values["app-dir"] ?? env[APP_SECRET_DIR_ENV] ?? APP_SECRET_DIR);
  const { client: kube } = connectToCluster({ kubeconfig: values.kubeconfig, context: values.context, env });
  const app = new GitHubApp({ appId: secret.appId, privateKey: secret.privateKey, baseUrl: values["github-api-url"] ?? env.KTF_GITHUB_API_URL ?? GITHUB_API_URL, logger: log });
  const service = new GitHubService(
    { kube, app, log, namespaces: (values["watch-namespaces"] ?? env.KTF_WATCH_NAMESPACES ?? "").split(",").filter(Boolean), creator: await creatorAnnotations(kube) },
    namespace,
  );
  const receiver = createWebhookReceiver({ secret: secret.webhookSecret, logger: log, record: (d) => service.record(d), handleDelivery: (d) => service.handle(d) });
  const server: Server = values["tls-cert"]
    ? createHttpsServer({ cert: await readFile(values["tls-cert"]), key: await readFile(values["tls-key"] ?? "") }, receiver.listener)
    : createHttpServer(receiver.listener);
  await service.start();
  await new Promise<void>((resolve) => server.listen(port, values.address ?? "0.0.0.0", resolve));
  const address = server.address();
  log.info({ port: typeof address === "object" && address ? address.port : port, tls: Boolean(values["tls-cert"]) }, "Serving GitHub webhooks");
  await new Promise<void>((resolve) => {
    signals.once("SIGTERM", resolve);
    signals.once("SIGINT", resolve);
  });
  log.info({}, "Stopping");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await receiver.idle();
  await service.stop();
  kube.close();
  return 0;
}
