import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { formatIssues } from "../api/validate.js";
import { UsageError } from "../errors.js";
import { execConfig, execCredentials, type ExecClusterInfo } from "./exec-credentials.js";
import type { Impersonation } from "./impersonation.js";
import { proxyFor } from "./proxy.js";

const orEmpty = <T>(v: T[] | null | undefined): T[] => v ?? [];

const clusterSchema = z.object({
  server: z.string(),
  "certificate-authority": z.string().nullish(),
  "certificate-authority-data": z.string().nullish(),
  "insecure-skip-tls-verify": z.boolean().nullish(),
  "tls-server-name": z.string().nullish(),
  "proxy-url": z.string().nullish(),
  extensions: z.array(z.object({ name: z.string(), extension: z.unknown() })).nullish(),
});

const userFields = z.object({
  "client-certificate": z.string().nullish(),
  "client-certificate-data": z.string().nullish(),
  "client-key": z.string().nullish(),
  "client-key-data": z.string().nullish(),
  token: z.string().nullish(),
  tokenFile: z.string().nullish(),
  username: z.string().nullish(),
  password: z.string().nullish(),
  exec: execConfig.nullish(),
  as: z.string().nullish(),
  "as-uid": z.string().nullish(),
  "as-groups": z.array(z.string()).nullish(),
  "as-user-extra": z.record(z.string(), z.array(z.string())).nullish(),
  // Left untyped: whatever its shape, its presence must stop the load (see userAuth).
  "auth-provider": z.unknown().optional(),
});
type User = z.infer<typeof userFields>;
const userSchema = userFields.nullish().transform((u): User => u ?? {});

const contextSchema = z.object({ cluster: z.string(), user: z.string().nullish(), namespace: z.string().nullish() });

const kubeconfigSchema = z.object({
  "current-context": z.string().nullish(),
  clusters: z.array(z.object({ name: z.string(), cluster: clusterSchema })).nullish().transform(orEmpty),
  users: z.array(z.object({ name: z.string(), user: userSchema })).nullish().transform(orEmpty),
  contexts: z.array(z.object({ name: z.string(), context: contextSchema })).nullish().transform(orEmpty),
});
type KubeconfigFile = z.infer<typeof kubeconfigSchema>;

/** Everything needed to talk to one cluster as one user. */
export interface ClusterCredentials {
  server: string;
  contextName: string;
  namespace?: string;
  ca?: Buffer;
  insecure?: boolean;
  servername?: string;
  /** The HTTP proxy to tunnel through (proxy-url, else HTTPS_PROXY unless NO_PROXY exempts the server). */
  proxy?: URL;
  impersonate?: Impersonation;
  /** The Authorization header; called per request because tokens rotate and expire. */
  authorization: () => Promise<string | undefined>;
  /** The TLS client certificate and key; a promise because an exec plugin may supply them. */
  tlsIdentity: () => Promise<{ cert?: Buffer; key?: Buffer }>;
  /** Forgets cached credentials after a 401; true when that can help, i.e. a retry may succeed. */
  invalidate: () => boolean;
}

type UserAuth = Pick<ClusterCredentials, "authorization" | "tlsIdentity" | "invalidate">;
type Cluster = KubeconfigFile["clusters"][number]["cluster"];

function readRelative(base: string, path: string): Buffer {
  return readFileSync(isAbsolute(path) ? path : join(base, path));
}

function pem(base: string, data: string | null | undefined, file: string | null | undefined): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  if (file) return readRelative(base, file);
  return undefined;
}

/**
 * kubectl's merge of several kubeconfig files: for each name, the first file that
 * defines it wins, and so does the first current-context.
 */
function merge(files: { base: string; config: KubeconfigFile }[]) {
  const first = <T extends { name: string }>(pick: (c: KubeconfigFile) => T[]) => {
    const out = new Map<string, T & { base: string }>();
    for (const { base, config } of files) for (const item of pick(config)) if (!out.has(item.name)) out.set(item.name, { ...item, base });
    return out;
  };
  return {
    current: files.map((f) => f.config["current-context"]).find(Boolean) ?? undefined,
    clusters: first((c) => c.clusters),
    users: first((c) => c.users),
    contexts: first((c) => c.contexts),
  };
}

const fixed = (authorization: string | undefined, identity: { cert?: Buffer; key?: Buffer }): UserAuth => ({
  authorization: () => Promise.resolve(authorization),
  tlsIdentity: () => Promise.resolve(identity),
  invalidate: () => false,
});

/** How the user authenticates, in kubectl's order: token, token file, exec plugin, basic auth; a client certificate goes with any. */
function userAuth(name: string, base: string, user: User, execCluster: ExecClusterInfo, env: NodeJS.ProcessEnv): UserAuth {
  const provider = user["auth-provider"];
  if (provider != null) {
    const which = (provider as { name?: unknown }).name;
    throw new UsageError(
      `user ${name} authenticates with the auth-provider ${typeof which === "string" ? which : "(unnamed)"}, which ktf does not support: ` +
        "switch the user to an exec credential plugin, e.g. kubelogin for OIDC and Azure, gke-gcloud-auth-plugin for GKE",
    );
  }
  const identity = { cert: pem(base, user["client-certificate-data"], user["client-certificate"]), key: pem(base, user["client-key-data"], user["client-key"]) };
  if (user.token) return fixed(`Bearer ${user.token}`, identity);
  if (user.tokenFile) {
    const path = isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile);
    // Re-read per request: projected tokens rotate on disk.
    return { ...fixed(undefined, identity), authorization: () => Promise.resolve(`Bearer ${readFileSync(path, "utf8").trim()}`) };
  }
  if (user.exec) {
    const exec = execCredentials(user.exec, execCluster, env);
    const tlsIdentity = async () => {
      const fromPlugin = await exec.tlsIdentity();
      return fromPlugin.cert ? fromPlugin : identity;
    };
    return { ...exec, tlsIdentity };
  }
  if (user.username) return fixed(`Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`, identity);
  return fixed(undefined, identity);
}

function impersonation(user: User): Impersonation | undefined {
  const i = { user: user.as ?? undefined, uid: user["as-uid"] ?? undefined, groups: user["as-groups"] ?? undefined, extra: user["as-user-extra"] ?? undefined };
  return Object.values(i).some((v) => v !== undefined) ? i : undefined;
}

/** What a plugin with provideClusterInfo gets in KUBERNETES_EXEC_INFO. */
function execClusterInfo(c: Cluster, ca: Buffer | undefined): ExecClusterInfo {
  return {
    server: c.server,
    ...(c["tls-server-name"] ? { "tls-server-name": c["tls-server-name"] } : {}),
    ...(c["insecure-skip-tls-verify"] ? { "insecure-skip-tls-verify": true } : {}),
    ...(ca ? { "certificate-authority-data": ca.toString("base64") } : {}),
    ...(c["proxy-url"] ? { "proxy-url": c["proxy-url"] } : {}),
    config: c.extensions?.find((e) => e.name === "client.authentication.k8s.io/exec")?.extension,
  };
}

function readKubeconfig(path: string): { base: string; config: KubeconfigFile } {
  const parsed = kubeconfigSchema.safeParse(parse(readFileSync(path, "utf8")) ?? {});
  if (!parsed.success) throw new UsageError(`kubeconfig ${path} is not valid: ${formatIssues(parsed.error.issues).join("; ")}`);
  return { base: dirname(path), config: parsed.data };
}

/**
 * Credentials from kubeconfig files (the list of $KUBECONFIG), for one context. As kubectl
 * does, files of the list that do not exist are skipped; it is an error only when none does.
 */
export function fromKubeconfigFiles(paths: readonly string[], contextName?: string, env: NodeJS.ProcessEnv = process.env): ClusterCredentials {
  const present = paths.filter((p) => existsSync(p));
  if (!present.length) {
    throw new UsageError(paths.length === 1 ? `kubeconfig ${paths[0]} does not exist` : `none of the kubeconfig files exists: ${paths.join(", ")}`);
  }
  const m = merge(present.map(readKubeconfig));
  const name = contextName ?? m.current;
  if (!name) throw new UsageError(`the kubeconfig has no current context: pass --context (it has: ${[...m.contexts.keys()].join(", ") || "none"})`);
  const context = m.contexts.get(name);
  if (!context) throw new UsageError(`context ${name} is not in the kubeconfig (it has: ${[...m.contexts.keys()].join(", ") || "none"})`);
  const cluster = m.clusters.get(context.context.cluster);
  if (!cluster) throw new UsageError(`context ${name} names cluster ${context.context.cluster}, which the kubeconfig does not define`);
  const user = context.context.user ? m.users.get(context.context.user) : undefined;
  const c = cluster.cluster;
  const u: User = user?.user ?? {};
  const ca = pem(cluster.base, c["certificate-authority-data"], c["certificate-authority"]);
  return {
    server: c.server,
    contextName: name,
    namespace: context.context.namespace ?? undefined,
    ca,
    insecure: c["insecure-skip-tls-verify"] ?? false,
    servername: c["tls-server-name"] ?? undefined,
    proxy: proxyFor(new URL(c.server), c["proxy-url"], env),
    impersonate: impersonation(u),
    ...userAuth(user?.name ?? "(none)", user?.base ?? cluster.base, u, execClusterInfo(c, ca), env),
  };
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Credentials of the pod's ServiceAccount (the token file is re-read: it rotates). */
export function inClusterCredentials(env: NodeJS.ProcessEnv = process.env): ClusterCredentials {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const namespace = existsSync(`${SERVICE_ACCOUNT}/namespace`) ? readFileSync(`${SERVICE_ACCOUNT}/namespace`, "utf8").trim() : undefined;
  return {
    server,
    contextName: "in-cluster",
    namespace,
    ca: readFileSync(`${SERVICE_ACCOUNT}/ca.crt`),
    authorization: () => Promise.resolve(`Bearer ${readFileSync(`${SERVICE_ACCOUNT}/token`, "utf8").trim()}`),
    tlsIdentity: () => Promise.resolve({}),
    invalidate: () => false,
  };
}
