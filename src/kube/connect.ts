import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { HttpKubeClient } from "./http-client.js";
import { fromKubeconfigFiles, inClusterCredentials, type ClusterCredentials } from "./kubeconfig.js";

export interface ConnectOptions {
  /** A kubeconfig path, or several joined with ":" like $KUBECONFIG. */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  home?: string;
}

export interface ClusterConnection {
  client: HttpKubeClient;
  namespace: string;
  /** "https://host:6443 (context admin@local)", for messages. */
  server: string;
  credentials: ClusterCredentials;
}

/**
 * kubectl's rules: --kubeconfig or $KUBECONFIG (merged in order), else ~/.kube/config,
 * else the pod's ServiceAccount when running in a cluster. --context picks a context;
 * -n, else the context's namespace, else "default".
 */
export function loadCredentials(o: ConnectOptions): ClusterCredentials {
  const files = (o.kubeconfig ?? "").split(":").filter(Boolean);
  const home = join(o.home ?? process.env.HOME ?? "/", ".kube", "config");
  if (!files.length && existsSync(home)) files.push(home);
  if (files.length) return fromKubeconfigFiles(files, o.context);
  if (process.env.KUBERNETES_SERVICE_HOST) return inClusterCredentials();
  throw new UsageError("no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config");
}

export function connectToCluster(o: ConnectOptions): ClusterConnection {
  const credentials = loadCredentials(o);
  const namespace = o.namespace ?? credentials.namespace ?? "default";
  const client = new HttpKubeClient(credentials, namespace);
  return { client, namespace, server: `${credentials.server} (context ${credentials.contextName})`, credentials };
}
