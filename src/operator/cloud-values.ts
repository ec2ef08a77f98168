import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Workspace } from "../api/workspace.js";
import { CloudSyncError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";

/**
 * Where a cloud workspace's values come from, read by the operator when it syncs: Secrets and
 * ConfigMaps of the workspace's namespace, and the installation's mounted variables
 * (ktf install --cloud-variables: a Secret mounted into the operator alone, one file per
 * value, terraform-k8s' way). A mounted file is named `<namespace>.<key>`, so an
 * administrator decides which namespace may use which value; a namespace name has no dot.
 */
export interface SecretReader {
  client: KubeClient;
  /** The directory of the mounted variables, when the installation has one. */
  mountedDir?: string;
}

type KeyRef = { name: string; key: string };
export interface ValueSource {
  value?: string | undefined;
  valueFrom?: { secretKeyRef?: KeyRef | undefined; configMapKeyRef?: KeyRef | undefined; mounted?: { key: string } | undefined } | undefined;
}

/** `reason`: what a missing Secret or key is, in the Ready condition (a token's is CloudCredentials). */
export async function secretValue(r: SecretReader, ws: Workspace, field: string, ref: KeyRef, reason: CloudSyncError["reason"] = "CloudSyncFailed"): Promise<string> {
  return keyValue(r, ws, field, "Secret", ref, reason);
}

/** A variable's value as it is now; `field` names it in errors ("spec.variables[2]"). */
export async function sourceValue(r: SecretReader, ws: Workspace, field: string, v: ValueSource): Promise<string> {
  if (v.value !== undefined) return v.value;
  const from = v.valueFrom;
  if (from?.secretKeyRef) return keyValue(r, ws, `${field}.valueFrom.secretKeyRef`, "Secret", from.secretKeyRef);
  if (from?.configMapKeyRef) return keyValue(r, ws, `${field}.valueFrom.configMapKeyRef`, "ConfigMap", from.configMapKeyRef);
  if (from?.mounted) return mountedValue(r, ws, `${field}.valueFrom.mounted`, from.mounted.key);
  return "";
}

/** Whether TFC must keep the value write-only: whatever comes from a Secret or the mounted variables is. */
export function isSecretSource(v: ValueSource & { sensitive: boolean }): boolean {
  return v.sensitive || Boolean(v.valueFrom?.secretKeyRef ?? v.valueFrom?.mounted);
}

async function keyValue(r: SecretReader, ws: Workspace, field: string, kind: "Secret" | "ConfigMap", ref: KeyRef, reason: CloudSyncError["reason"] = "CloudSyncFailed"): Promise<string> {
  const ns = ws.metadata.namespace ?? "";
  const object = await r.client.get<KubeObject & { data?: Record<string, string> }>(kind === "Secret" ? RESOURCES.Secret : RESOURCES.ConfigMap, ns, ref.name);
  const raw = object?.data?.[ref.key];
  if (raw === undefined) throw new CloudSyncError(reason, `${field}: ${kind} ${ref.name} ${object ? `has no key ${ref.key}` : `does not exist in namespace ${ns}`}`);
  return kind === "Secret" ? Buffer.from(raw, "base64").toString("utf8") : raw;
}

async function mountedValue(r: SecretReader, ws: Workspace, field: string, key: string): Promise<string> {
  const file = `${ws.metadata.namespace ?? ""}.${key}`;
  if (!r.mountedDir) throw new CloudSyncError("CloudSyncFailed", `${field}: the installation has no mounted variables (ktf install --cloud-variables SECRET, with the key ${file})`);
  try {
    return await readFile(path.join(r.mountedDir, file), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new CloudSyncError("CloudSyncFailed", `${field}: the installation's mounted variables have no key ${file} (<namespace>.<key>)`);
    throw err;
  }
}
