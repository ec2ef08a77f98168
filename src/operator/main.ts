import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { isFinished, type Run } from "../api/run.js";
import { LABELS } from "../api/group.js";
import { UsageError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { connectToCluster } from "../kube/connect.js";
import { countingClient } from "../kube/counting-client.js";
import { informerReader } from "../kube/cached-reader.js";
import { cachedRuns } from "./workspace-runs.js";
import { Informer } from "../kube/informer.js";
import { RESOURCES, type ResourceType } from "../kube/resources.js";
import { createLogger, type Logger } from "../log.js";
import { OPERATOR_NAME, OPERATOR_PORT } from "../install/manifests.js";
import { RunController } from "./controllers/run.js";
import { CliCredentials } from "../cloud/credentials.js";
import { WorkspaceController } from "./controllers/workspace.js";
import type { ObjectKey } from "./controllers/types.js";
import { Controller, ownKey, ownerKey, type WatchSource } from "./runtime/controller.js";
import { EventRecorder } from "./runtime/events.js";
import { HealthServer } from "./runtime/health-server.js";
import { LeaderElector } from "./runtime/leader-election.js";
import { OperatorMetrics } from "./runtime/metrics.js";
import { tokenAudiences } from "./run-identity.js";
import { DEFAULT_API_AUDIENCES } from "../api/workspace.js";
import { Backups } from "../backup/backups.js";
import { workspaceOfStateSecret } from "../state/state-store.js";
import { parseBackupTarget, type BackupTarget } from "../backup/backup-target.js";

export interface OperatorConfig {
  /** Where the operator runs: its leader-election Lease lives here. */
  namespace: string;
  /** Namespaces to serve; empty serves all. */
  watchNamespaces: string[];
  port: number;
  runnerImage: string;
  leaderElect: boolean;
  identity: string;
  workers: number;
  archiveTimeoutMs: number;
  startTimeoutMs: number;
  resyncMs: number;
  /** Where state versions are copied (S3, GCS), if anywhere. */
  backups: BackupTarget[];
  /** The CLI configuration Secret of workspaces that name none (looked up in each one's namespace). */
  cliConfigSecret?: string;
}

export function parseOperatorArgs(args: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const { values } = parseArgs({
    args,
    options: {
      namespace: { type: "string" },
      "watch-namespaces": { type: "string" },
      port: { type: "string" },
      "runner-image": { type: "string" },
      "leader-elect": { type: "string" },
      "start-timeout-seconds": { type: "string" },
      workers: { type: "string" },
      backup: { type: "string", multiple: true },
      "cli-config-secret": { type: "string" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
    },
    strict: true,
  });
  const runnerImage = values["runner-image"] ?? env.KTF_RUNNER_IMAGE;
  if (!runnerImage) throw new UsageError("the operator needs the run image: pass --runner-image or set KTF_RUNNER_IMAGE");
  const port = Number(values.port ?? OPERATOR_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a port number, got ${values.port}`);
  return {
    namespace: values.namespace ?? env.KTF_NAMESPACE ?? "ktf-system",
    watchNamespaces: (values["watch-namespaces"] ?? "").split(",").filter(Boolean),
    port,
    runnerImage,
    leaderElect: values["leader-elect"] !== "false",
    identity: env.KTF_POD_NAME ?? `${hostname()}-${process.pid}`,
    workers: Number(values.workers ?? 4),
    archiveTimeoutMs: 10 * 60_000,
    startTimeoutMs: Number(values["start-timeout-seconds"] ?? 120) * 1000,
    resyncMs: 5 * 60_000,
    backups: (values.backup ?? []).map(parseBackupTarget),
    ...(values["cli-config-secret"] ? { cliConfigSecret: values["cli-config-secret"] } : {}),
  };
}

/** Informers of one kind, one per served namespace (or one for all). */
function informers<T extends KubeObject>(client: KubeClient, type: ResourceType, c: OperatorConfig, log: Logger, labelSelector?: string, metadataOnly = false): Informer<T>[] {
  const namespaces = c.watchNamespaces.length ? c.watchNamespaces : [undefined];
  return namespaces.map((namespace) => new Informer<T>(client, type, { namespace, labelSelector, resyncMs: c.resyncMs, log, metadataOnly }));
}

function key(namespace: string | undefined, name: string | undefined): ObjectKey[] {
  return name ? [{ namespace: namespace ?? "", name }] : [];
}

const OWN_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** The audiences the API server gives its ServiceAccount tokens by default: those of the operator's own. */
function ownTokenAudiences(): string[] {
  return existsSync(OWN_TOKEN) ? tokenAudiences(readFileSync(OWN_TOKEN, "utf8").trim()) : [];
}

/**
 * Wires the operator: leader election first; once leading, informers, the Workspace and
 * Run controllers, and their queues. Runs until SIGTERM (returns 0) or until leadership
 * is lost (returns 1, so that the Deployment restarts it as a candidate).
 */
export async function runOperator(args: string[], env: NodeJS.ProcessEnv, signals: NodeJS.EventEmitter = process): Promise<number> {
  const c = parseOperatorArgs(args, env);
  const log = createLogger({ name: "operator" });
  const { values } = parseArgs({ args, options: { kubeconfig: { type: "string" }, context: { type: "string" } }, strict: false });
  const metrics = new OperatorMetrics({ processMetrics: true });
  const client = countingClient(connectToCluster({ kubeconfig: values.kubeconfig as string | undefined, context: values.context as string | undefined, env }).client, metrics);
  const events = new EventRecorder(client, log, c.identity);
  const now = () => new Date();

  const workspaces = informers(client, RESOURCES.Workspace, c, log);
  const runs = informers<Run & KubeObject>(client, RESOURCES.Run, c, log);
  const pods = informers(client, RESOURCES.Pod, c, log, `${LABELS.component}=run`);
  // A state Secret only wakes its workspace (which reads the state itself): its metadata is
  // enough, and the cache holds no state, however large.
  const states = informers(client, RESOURCES.Secret, c, log, "tfstate=true", true);
  const all = [...workspaces, ...runs, ...pods, ...states];

  /** The runs of the same workspace that wait for their turn (they have no pod yet). */
  const waitingSiblings = (run: Run): ObjectKey[] =>
    runs
      .flatMap((i) => i.list())
      .filter((r) => r.metadata.namespace === run.metadata.namespace && r.spec.workspace === run.spec.workspace && r !== run && !isFinished(r) && !r.status?.podName)
      .flatMap((r) => key(r.metadata.namespace, r.metadata.name));

  // The object stores' SDKs load only where backups are configured.
  const stores = c.backups.length ? (await import("../backup/object-store.js")).objectStoreFor : undefined;
  const backups = stores ? new Backups(c.backups.map((target) => ({ target, store: stores(target) }))) : undefined;
  const apiAudiences = [...DEFAULT_API_AUDIENCES, ...ownTokenAudiences()];
  // The installation's TFC credentials (ktf install --cloud-credentials), read when needed: a changed Secret is seen.
  const credentialsFile = process.env.TF_CLI_CONFIG_FILE;
  const credentials = credentialsFile ? () => (existsSync(credentialsFile) ? CliCredentials.load(credentialsFile) : Promise.resolve(undefined)) : undefined;
  const mountedVariablesDir = process.env.KTF_CLOUD_VARIABLES_DIR;
  const cloud = { fetch, ...(credentials ? { credentials } : {}), ...(mountedVariablesDir ? { mountedVariablesDir } : {}) };
  // The queue of a workspace is computed from the cache: no LIST of a namespace's runs per reconcile.
  const runList = cachedRuns(runs);
  const cache = informerReader([[RESOURCES.Workspace, workspaces], [RESOURCES.Run, runs], [RESOURCES.Pod, pods]]);
  const workspaceController = new WorkspaceController({ client, cache, runs: runList, events, log, now, metrics, apiAudiences, cloud, ...(backups ? { backups } : {}) });
  const runController = new RunController({ client, cache, runs: runList, events, log, now, runnerImage: c.runnerImage, archiveTimeoutMs: c.archiveTimeoutMs, startTimeoutMs: c.startTimeoutMs, metrics, apiAudiences, cloud, ...(c.cliConfigSecret ? { defaultCliConfigSecret: c.cliConfigSecret } : {}), ...(backups ? { backups } : {}) });
  const controllers = [
    new Controller({
      name: "workspace",
      reconcile: (k) => workspaceController.reconcile(k),
      workers: c.workers,
      log,
      metrics,
      watches: [
        ...workspaces.map((informer): WatchSource => ({ informer, map: ownKey })),
        ...runs.map((informer): WatchSource => ({ informer, map: (r) => key(r.metadata.namespace, (r as Run).spec.workspace) })),
        ...states.map((informer): WatchSource => ({ informer, map: (s) => key(s.metadata.namespace, workspaceOfStateSecret(s.metadata.name)) })),
      ],
    }),
    new Controller({
      name: "run",
      reconcile: (k) => runController.reconcile(k),
      workers: c.workers,
      log,
      metrics,
      watches: [
        // A run that ends, or goes away however it goes (deleted while it ran), lets the next one start.
        ...runs.map((informer): WatchSource => ({ informer, map: (r) => [...ownKey(r), ...waitingSiblings(r as Run)] })),
        ...pods.map((informer): WatchSource => ({ informer, map: ownerKey("Run") })),
      ],
    }),
  ];

  let synced = false;
  const elector = c.leaderElect ? new LeaderElector({ client, namespace: c.namespace, name: OPERATOR_NAME, identity: c.identity, log }) : undefined;
  const health = new HealthServer({ ready: () => synced || !elector?.isLeader, role: () => (elector && !elector.isLeader ? "follower" : "leader") }, metrics.registry);
  await health.listen(c.port);
  log.info({ port: c.port, namespaces: c.watchNamespaces.length ? c.watchNamespaces : "all", identity: c.identity, backups: backups?.where ?? "none" }, "Operator started");

  const startControllers = async () => {
    metrics.leader.set(1);
    await Promise.all(all.map((i) => i.start()));
    for (const controller of controllers) controller.start();
    synced = true;
    log.info({}, "Controllers started");
  };
  const shutdown = async () => {
    await Promise.all(controllers.map((x) => x.stop()));
    await Promise.all(all.map((i) => i.stop()));
    metrics.leader.set(0);
  };

  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      log.info({}, "Stopping");
      resolve();
    };
    signals.once("SIGTERM", onSignal);
    signals.once("SIGINT", onSignal);
  });

  let lost = false;
  if (elector) {
    const leading = elector.run({
      onStartedLeading: () => void startControllers(),
      onStoppedLeading: () => {
        lost = !stopping;
      },
    });
    await Promise.race([stopped, leading]);
  } else {
    await startControllers();
    await stopped;
  }
  await shutdown();
  await elector?.stop();
  await health.close();
  client.close();
  if (lost) log.error({}, "Leadership lost; exiting so that the Deployment restarts this replica");
  return lost ? 1 : 0;
}
