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
import { MAX_SHARDS } from "../install/defaults.js";
import { RunController } from "./controllers/run.js";
import { CliCredentials } from "../cloud/credentials.js";
import { WorkspaceController } from "./controllers/workspace.js";
import { ApplyOnce } from "./apply-once.js";
import type { ObjectKey } from "./controllers/types.js";
import { Controller, ownKey, ownerKey, type WatchSource } from "./runtime/controller.js";
import { EventRecorder } from "./runtime/events.js";
import { HealthServer } from "./runtime/health-server.js";
import { ShardCoordinator } from "./runtime/shard-coordinator.js";
import { shardOf } from "./runtime/shards.js";
import { OperatorMetrics } from "./runtime/metrics.js";
import { tokenAudiences } from "./run-identity.js";
import { DEFAULT_API_AUDIENCES } from "../api/workspace.js";
import { Backups } from "../backup/backups.js";
import { workspaceOfStateSecret } from "../state/state-store.js";
import { parseBackupTarget, type BackupTarget } from "../backup/backup-target.js";

export interface OperatorConfig {
  /** Where the operator runs: its shard and member Leases live here. */
  namespace: string;
  /** Namespaces to serve; empty serves all. */
  watchNamespaces: string[];
  port: number;
  runnerImage: string;
  leaderElect: boolean;
  /** How many shards the workspaces are split into among the replicas (with leader election). */
  shards: number;
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
      shards: { type: "string" },
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
  const shards = Number(values.shards ?? 1);
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) throw new UsageError(`--shards expects a whole number from 1 to ${MAX_SHARDS}, got ${values.shards}`);
  return {
    namespace: values.namespace ?? env.KTF_NAMESPACE ?? "ktf-system",
    watchNamespaces: (values["watch-namespaces"] ?? "").split(",").filter(Boolean),
    port,
    runnerImage,
    leaderElect: values["leader-elect"] !== "false",
    shards,
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
 * Wires the operator: informers, the Workspace and Run controllers and their queues, and the
 * shard coordinator that decides which workspaces this replica works on. Runs until SIGTERM
 * (returns 0). A shard whose Lease cannot be renewed is given up, not the process: the
 * replica goes on with the others and campaigns again.
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
  const workspaceController = new WorkspaceController({ client, cache, runs: runList, applied: new ApplyOnce(c.resyncMs), events, log, now, metrics, apiAudiences, cloud, ...(backups ? { backups } : {}) });
  const runController = new RunController({ client, cache, runs: runList, events, log, now, runnerImage: c.runnerImage, archiveTimeoutMs: c.archiveTimeoutMs, startTimeoutMs: c.startTimeoutMs, metrics, apiAudiences, cloud, ...(c.cliConfigSecret ? { defaultCliConfigSecret: c.cliConfigSecret } : {}), ...(backups ? { backups } : {}) });
  // Every replica caches everything (a replica taking a shard over starts at once) and works
  // on the workspaces of the shards it holds; without leader election, on all of them.
  const coordinator = c.leaderElect
    ? new ShardCoordinator({ client, namespace: c.namespace, base: OPERATOR_NAME, identity: c.identity, shards: c.shards, log, onChange: (held) => shardsChanged(held) })
    : undefined;
  const handles = (namespace: string, workspace: string) => !coordinator || coordinator.owns(shardOf(namespace, workspace, c.shards));
  const runOf = (k: ObjectKey) => {
    for (const i of runs) {
      const r = i.get(k.namespace, k.name);
      if (r) return r;
    }
    return undefined;
  };
  const controllers = [
    new Controller({
      name: "workspace",
      reconcile: (k) => workspaceController.reconcile(k),
      handles: (k) => handles(k.namespace, k.name),
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
      // A run not in the cache has no workspace to go by: its own events bring it back once it is.
      handles: (k) => {
        const run = runOf(k);
        return run !== undefined && handles(k.namespace, run.spec.workspace);
      },
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
  const health = new HealthServer({ ready: () => synced, role: () => (coordinator ? `shards ${coordinator.shardsHeld.join(",") || "none"} of ${c.shards}` : "all namespaces' workspaces") }, metrics.registry);
  await health.listen(c.port);
  log.info({ port: c.port, namespaces: c.watchNamespaces.length ? c.watchNamespaces : "all", identity: c.identity, shards: c.shards, backups: backups?.where ?? "none" }, "Operator started");

  let started = false;
  /** Shards taken: their objects are looked at (given up: the controllers skip their keys from now on). */
  function shardsChanged(held: ReadonlySet<number>): void {
    metrics.shardsHeld.set(held.size);
    metrics.leader.set(held.size > 0 ? 1 : 0);
    if (started) for (const controller of controllers) controller.resync();
  }

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

  await Promise.race([Promise.all(all.map((i) => i.start())), stopped]);
  synced = true;
  if (!coordinator) shardsChanged(new Set([0]));
  for (const controller of controllers) controller.start();
  started = true;
  log.info({}, "Controllers started");
  const coordinating = coordinator?.run();
  await stopped;
  // The shards go first, so that the replicas that take them over start while this one drains.
  await coordinator?.stop();
  await coordinating;
  await Promise.all(controllers.map((x) => x.stop()));
  await Promise.all(all.map((i) => i.stop()));
  metrics.leader.set(0);
  await health.close();
  client.close();
  return 0;
}
