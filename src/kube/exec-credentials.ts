import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { z } from "zod";
import { UsageError } from "../errors.js";

const run = promisify(execFile);

export const execConfig = z.object({
  command: z.string(),
  args: z.array(z.string()).nullish(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  apiVersion: z.string().nullish(),
  provideClusterInfo: z.boolean().nullish(),
});
export type ExecConfig = z.infer<typeof execConfig>;

/** The cluster as client-go describes it to a plugin that sets provideClusterInfo. */
export interface ExecClusterInfo {
  server: string;
  "tls-server-name"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "certificate-authority-data"?: string;
  "proxy-url"?: string;
  /** The cluster's extension named client.authentication.k8s.io/exec. */
  config?: unknown;
}

const statusSchema = z.object({
  token: z.string().nullish(),
  clientCertificateData: z.string().nullish(),
  clientKeyData: z.string().nullish(),
  expirationTimestamp: z.string().nullish(),
});

interface ExecResult {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  expires: number;
}

export interface ExecCredentials {
  authorization: () => Promise<string | undefined>;
  tlsIdentity: () => Promise<{ cert?: Buffer; key?: Buffer }>;
  /** Drops the cached credential, so that the next request runs the plugin again. */
  invalidate: () => boolean;
}

// Without an expirationTimestamp the credential is re-read after a minute (or after a 401).
const DEFAULT_LIFETIME_MS = 60_000;
const EXPIRY_MARGIN_MS = 10_000;

/**
 * An exec credential plugin (EKS, GKE, kubelogin): its token and/or client certificate,
 * cached until they expire. Concurrent callers share one run of the plugin.
 */
export function execCredentials(exec: ExecConfig, cluster: ExecClusterInfo, env: NodeJS.ProcessEnv): ExecCredentials {
  let result: ExecResult | undefined;
  let pending: Promise<ExecResult> | undefined;
  const current = async (): Promise<ExecResult> => {
    if (result && result.expires > Date.now() + EXPIRY_MARGIN_MS) return result;
    pending ??= runPlugin(exec, cluster, env).finally(() => (pending = undefined));
    result = await pending;
    return result;
  };
  return {
    authorization: async () => {
      const { token } = await current();
      return token ? `Bearer ${token}` : undefined;
    },
    tlsIdentity: async () => {
      const { cert, key } = await current();
      return { cert, key };
    },
    invalidate: () => {
      result = undefined;
      return true;
    },
  };
}

async function runPlugin(exec: ExecConfig, cluster: ExecClusterInfo, env: NodeJS.ProcessEnv): Promise<ExecResult> {
  const info = {
    apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    // ktf never hands a plugin a terminal: it must not prompt.
    spec: { interactive: false, ...(exec.provideClusterInfo ? { cluster } : {}) },
  };
  const pluginEnv = { ...env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])), KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  let stdout: string;
  try {
    ({ stdout } = await run(exec.command, exec.args ?? [], { env: pluginEnv }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why = e.code === "ENOENT" ? "it is not installed (not found on PATH)" : e.stderr?.trim() || e.message;
    throw new UsageError(`the exec credential plugin ${exec.command} failed: ${why}`, { cause: err });
  }
  const status = parseStatus(exec.command, stdout);
  if (!!status.clientCertificateData !== !!status.clientKeyData) {
    throw new UsageError(`the exec credential plugin ${exec.command} returned a client certificate without its key, or a key without its certificate`);
  }
  if (!status.token && !status.clientCertificateData) throw new UsageError(`the exec credential plugin ${exec.command} returned neither a token nor a client certificate`);
  return {
    token: status.token ?? undefined,
    // PEM text, not base64 (unlike kubeconfig's *-data fields).
    cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
    key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined,
    expires: status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Date.now() + DEFAULT_LIFETIME_MS,
  };
}

function parseStatus(command: string, stdout: string): z.infer<typeof statusSchema> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new UsageError(`the exec credential plugin ${command} did not print an ExecCredential (JSON) on stdout`);
  }
  const status = statusSchema.safeParse((parsed as { status?: unknown } | null)?.status ?? {});
  if (!status.success) throw new UsageError(`the exec credential plugin ${command} printed an ExecCredential whose status is not valid`);
  return status.data;
}
