import { UsageError, isApiError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { connectToCluster } from "../kube/connect.js";
import { RESOURCES } from "../kube/resources.js";
import { workspaceSchema, type Workspace } from "../api/workspace.js";
import type { KtfOptions } from "./engine-args.js";
import { readLocalSettings, type LocalSettings } from "./local-settings.js";
import type { Terminal } from "./output/terminal.js";

/** A CLI invocation's view of the cluster. */
export interface Session {
  client: KubeClient;
  namespace: string;
  /** Where the cluster is, for error messages: "https://1.2.3.4:6443 (context admin@local)". */
  server: string;
}

/**
 * Connects as kubectl would (--kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster; --context;
 * -n), falling back to what `ktf workspace select` remembered for the directory.
 */
export async function connect(t: Terminal, options: KtfOptions, dir: string): Promise<Session> {
  const settings = await settingsFor(t, dir);
  const cluster = connectToCluster({
    kubeconfig: options.kubeconfig,
    context: options.context ?? settings.context,
    namespace: options.namespace ?? settings.namespace,
    impersonate: { user: options.as, groups: options.asGroup },
    env: t.env,
  });
  return { client: cluster.client, namespace: cluster.namespace, server: cluster.server };
}

/** The workspace a command acts on: --workspace, else the one selected for the directory. */
export async function requireWorkspace(t: Terminal, session: Session, flag: string | undefined, dir: string): Promise<Workspace> {
  const name = flag ?? (await settingsFor(t, dir)).workspace;
  if (!name) {
    throw new UsageError("no workspace selected for this directory: run `ktf workspace select NAME` (or `ktf workspace new NAME`), or pass --workspace NAME");
  }
  const ws = await session.client.get(RESOURCES.Workspace, session.namespace, name);
  if (!ws) {
    await requireKtfInstalled(session);
    throw new UsageError(`workspace ${name} does not exist in namespace ${session.namespace}: create it with \`ktf workspace new ${name}\`, or pick another with -n/--namespace`);
  }
  return workspaceSchema.parse(ws);
}

/** The settings of the configuration directory, else of where ktf was started. */
async function settingsFor(t: Terminal, dir: string): Promise<LocalSettings> {
  const own = await readLocalSettings(dir);
  return Object.keys(own).length ? own : readLocalSettings(t.cwd);
}

/** A cluster without ktf's CRDs answers 404 for every workspace: say that, not that one is missing. */
async function requireKtfInstalled(session: Session): Promise<void> {
  try {
    await session.client.list(RESOURCES.Workspace, session.namespace);
  } catch (err) {
    if (isApiError(err, 404)) throw new UsageError(`ktf is not installed in the cluster at ${session.server}: it does not serve workspaces.ktf.dev; install it with \`ktf install\``);
    throw err;
  }
}
