import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { z } from "zod";
import { formatIssues } from "../api/validate.js";
import { UsageError } from "../errors.js";

const run = promisify(execFile);

const orEmpty = <T>(v: T[] | null | undefined): T[] => v ?? [];

const execConfig = z.object({
  command: z.string(),
  args: z.array(z.string()).nullish(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  apiVersion: z.string().nullish(),
});

const clusterSchema = z.object({
  server: z.string(),
  "certificate-authority": z.string().nullish(),
  "certificate-authority-data": z.string().nullish(),
  "insecure-skip-tls-verify": z.boolean().nullish(),
  "tls-server-name": z.string().nullish(),
});

const userSchema = z
  .object({
    "client-certificate": z.string().nullish(),
    "client-certificate-data": z.string().nullish(),
    "client-key": z.string().nullish(),
    "client-key-data": z.string().nullish(),
    token: z.string().nullish(),
    tokenFile: z.string().nullish(),
    username: z.string().nullish(),
    password: z.string().nullish(),
    exec: execConfig.nullish(),
  })
  .nullish()
  .transform((u) => u ?? {});

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
  cert?: Buffer;
  key?: Buffer;
  insecure?: boolean;
  servername?: string;
  /** The Authorization header; called per request because tokens rotate and expire. */
  authorization: () => Promise<string | undefined>;
}

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

/** An exec credential plugin (EKS, GKE, OIDC helpers): its token, cached until it expires. */
function execAuth(exec: z.infer<typeof execConfig>): () => Promise<string | undefined> {
  let cached: { token: string; expires: number } | undefined;
  return async () => {
    if (cached && cached.expires > Date.now() + 10_000) return `Bearer ${cached.token}`;
    const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])) };
    const { stdout } = await run(exec.command, exec.args ?? [], { env });
    const status = (JSON.parse(stdout) as { status?: { token?: string; expirationTimestamp?: string } }).status;
    if (!status?.token) return undefined;
    cached = { token: status.token, expires: status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Date.now() + 60_000 };
    return `Bearer ${status.token}`;
  };
}

function userAuth(base: string, user: KubeconfigFile["users"][number]["user"]): () => Promise<string | undefined> {
  if (user.token) return () => Promise.resolve(`Bearer ${user.token}`);
  if (user.tokenFile) {
    const path = isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile);
    return () => Promise.resolve(`Bearer ${readFileSync(path, "utf8").trim()}`);
  }
  if (user.exec) return execAuth(user.exec);
  if (user.username) return () => Promise.resolve(`Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`);
  return () => Promise.resolve(undefined);
}

/** Credentials from kubeconfig files (a ":"-separated list, as $KUBECONFIG), for one context. */
export function fromKubeconfigFiles(paths: readonly string[], contextName?: string): ClusterCredentials {
  const files = paths.map((path) => {
    if (!existsSync(path)) throw new UsageError(`kubeconfig ${path} does not exist`);
    const parsed = kubeconfigSchema.safeParse(parse(readFileSync(path, "utf8")) ?? {});
    if (!parsed.success) throw new UsageError(`kubeconfig ${path} is not valid: ${formatIssues(parsed.error.issues).join("; ")}`);
    return { base: dirname(path), config: parsed.data };
  });
  const m = merge(files);
  const name = contextName ?? m.current;
  if (!name) throw new UsageError(`the kubeconfig has no current context: pass --context (it has: ${[...m.contexts.keys()].join(", ") || "none"})`);
  const context = m.contexts.get(name);
  if (!context) throw new UsageError(`context ${name} is not in the kubeconfig (it has: ${[...m.contexts.keys()].join(", ") || "none"})`);
  const cluster = m.clusters.get(context.context.cluster);
  if (!cluster) throw new UsageError(`context ${name} names cluster ${context.context.cluster}, which the kubeconfig does not define`);
  const user = context.context.user ? m.users.get(context.context.user) : undefined;
  const c = cluster.cluster;
  const u = user?.user ?? {};
  const userBase = user?.base ?? cluster.base;
  return {
    server: c.server,
    contextName: name,
    namespace: context.context.namespace ?? undefined,
    ca: pem(cluster.base, c["certificate-authority-data"], c["certificate-authority"]),
    cert: pem(userBase, u["client-certificate-data"], u["client-certificate"]),
    key: pem(userBase, u["client-key-data"], u["client-key"]),
    insecure: c["insecure-skip-tls-verify"] ?? false,
    servername: c["tls-server-name"] ?? undefined,
    authorization: userAuth(userBase, u),
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
  };
}
