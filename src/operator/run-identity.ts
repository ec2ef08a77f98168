import { LABELS } from "../api/group.js";
import type { Workspace } from "../api/workspace.js";
import type { KubeObject } from "../kube/client.js";

/**
 * Why a workspace's runs may not have the identity it asks for, or undefined when they may.
 * - A token for an audience the API server accepts is a Kubernetes credential: the
 *   configuration's code (which reads the token) would act as the run's ServiceAccount,
 *   past the state sidecar's access rules.
 * - A ServiceAccount named in the spec must opt in with the label ktf.dev/runner-account:
 *   otherwise whoever may edit a workspace may run as any ServiceAccount of the namespace
 *   (a CI deployer's, an operator's), with its cloud identity.
 */
export function identityRefusal(ws: Workspace, serviceAccount: KubeObject | undefined, apiAudiences: readonly string[]): string | undefined {
  const audiences = new Set(apiAudiences);
  const i = ws.spec.identity.tokens.findIndex((t) => audiences.has(t.audience));
  if (i >= 0) {
    return `spec.identity.tokens[${i}].audience "${ws.spec.identity.tokens[i]?.audience}" is an audience of the Kubernetes API server: the token would give the configuration's code Kubernetes credentials; use the audience of a cloud's STS (sts.amazonaws.com, ...)`;
  }
  const named = ws.spec.serviceAccountName;
  if (!named) return undefined;
  if (!serviceAccount) return `spec.serviceAccountName: ServiceAccount ${named} does not exist in namespace ${ws.metadata.namespace}`;
  if (serviceAccount.metadata.labels?.[LABELS.runnerAccount] !== "true") {
    return `spec.serviceAccountName: ServiceAccount ${named} has not opted in to running ktf runs: label it ${LABELS.runnerAccount}=true (kubectl label serviceaccount ${named} ${LABELS.runnerAccount}=true)`;
  }
  return undefined;
}

/** The audiences of a ServiceAccount token (a JWT), read without verifying it: it is the operator's own. */
export function tokenAudiences(jwt: string): string[] {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { aud?: string | string[] };
    return typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  } catch {
    return [];
  }
}
