import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { UsageError } from "../errors.js";
import { HttpKubeClient } from "./http-client.js";

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
  kubeConfig: KubeConfig;
}

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/**
 * kubectl's rules: --kubeconfig or $KUBECONFIG (merged in order), else ~/.kube/config,
 * else the pod's ServiceAccount when running in a cluster. --context picks a context;
 * -n, else the context's namespace, else "default".
 */
export function loadKubeConfig(o: ConnectOptions): { kc: KubeConfig; inCluster: boolean } {
  const kc = new KubeConfig();
  const files = (o.kubeconfig ?? "").split(":").filter(Boolean);
  const home = join(o.home ?? process.env.HOME ?? "/", ".kube", "config");
  if (!files.length && existsSync(home)) files.push(home);
  if (files.length) {
    for (const file of files) {
      if (!existsSync(file)) throw new UsageError(`kubeconfig ${file} does not exist`);
      const one = new KubeConfig();
      one.loadFromFile(file);
      kc.mergeConfig(one, kc.currentContext !== undefined && kc.currentContext !== "");
    }
  } else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
    return { kc, inCluster: true };
  } else {
    throw new UsageError("no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config");
  }
  if (o.context) {
    if (!kc.getContextObject(o.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(`context ${o.context} is not in the kubeconfig (it has: ${known.join(", ") || "none"})`);
    }
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster()) throw new UsageError(`the kubeconfig's current context (${kc.getCurrentContext() || "none"}) names no cluster: pass --context`);
  return { kc, inCluster: false };
}

export function connectToCluster(o: ConnectOptions): ClusterConnection {
  const { kc, inCluster } = loadKubeConfig(o);
  const contextNamespace = inCluster ? readText(IN_CLUSTER_NAMESPACE) : kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = o.namespace ?? contextNamespace ?? "default";
  const client = new HttpKubeClient(kc, namespace);
  return { client, namespace, server: `${client.serverUrl} (context ${kc.getCurrentContext()})`, kubeConfig: kc };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
