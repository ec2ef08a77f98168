import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { UsageError } from "../errors.js";
import { HttpKubeClient } from "./http-client.js";
import { overrideImpersonation, type Impersonation } from "./impersonation.js";
import { fromKubeconfigFiles, inClusterCredentials, type ClusterCredentials } from "./kubeconfig.js";

export interface ConnectOptions {
  /** --kubeconfig: one file, which must exist (kubectl does not split it into a list). */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** --as and --as-group: they override the kubeconfig user's as and as-groups. */
  impersonate?: Impersonation;
  /** KUBECONFIG, HOME, the proxy variables: process.env unless given. */
  env?: NodeJS.ProcessEnv;
}

export interface ClusterConnection {
  client: HttpKubeClient;
  namespace: string;
  /** "https://host:6443 (context admin@local)", for messages. */
  server: string;
  credentials: ClusterCredentials;
}

/**
 * kubectl's rules: --kubeconfig, else $KUBECONFIG (a list split on path.delimiter, merged in
 * order, missing files skipped), else ~/.kube/config, else the pod's ServiceAccount when
 * running in a cluster. --context picks a context; -n, else the context's namespace, else "default".
 */
export function loadCredentials(o: ConnectOptions): ClusterCredentials {
  const env = o.env ?? process.env;
  if (o.kubeconfig) return fromKubeconfigFiles([o.kubeconfig], o.context, env);
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
  if (listed.length) return fromKubeconfigFiles(listed, o.context, env);
  const home = join(env.HOME ?? "/", ".kube", "config");
  if (existsSync(home)) return fromKubeconfigFiles([home], o.context, env);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterCredentials(env);
  throw new UsageError("no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config");
}

export function connectToCluster(o: ConnectOptions): ClusterConnection {
  const loaded = loadCredentials(o);
  const credentials = { ...loaded, impersonate: overrideImpersonation(loaded.impersonate, o.impersonate) };
  const namespace = o.namespace ?? credentials.namespace ?? "default";
  const client = new HttpKubeClient(credentials, namespace);
  return { client, namespace, server: `${credentials.server} (context ${credentials.contextName})`, credentials };
}
