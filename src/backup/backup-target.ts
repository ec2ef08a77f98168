import { UsageError } from "../errors.js";

/**
 * Where state versions are copied: `s3://bucket/prefix` or `gs://bucket/prefix`, with the
 * store's settings as query parameters: `?region=eu-west-1` (S3), `?endpoint=http://host:port`
 * (an S3-compatible store, a GCS emulator).
 */
export interface BackupTarget {
  kind: "s3" | "gcs";
  bucket: string;
  /** Without leading or trailing slashes; "" for the bucket's root. */
  prefix: string;
  /** S3's region (default us-east-1). */
  region?: string;
  /** An S3-compatible store or a GCS emulator: `http(s)://host:port`. */
  endpoint?: string;
}

export function parseBackupTarget(url: string): BackupTarget {
  const [location = "", query = ""] = url.split("?", 2);
  const m = /^(s3|gs):\/\/([a-z0-9][a-z0-9._-]*)(?:\/(.*))?$/.exec(location);
  if (!m?.[1] || !m[2]) throw new UsageError(`--backup expects s3://BUCKET/PREFIX or gs://BUCKET/PREFIX, got ${url}`);
  const params = new URLSearchParams(query);
  for (const key of params.keys()) {
    if (key !== "region" && key !== "endpoint") throw new UsageError(`--backup ${location}: unknown setting ${key} (expected region or endpoint)`);
  }
  const endpoint = params.get("endpoint") ?? undefined;
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint)) throw new UsageError(`--backup ${location}: endpoint expects http(s)://HOST[:PORT], got ${endpoint}`);
  const region = params.get("region") ?? undefined;
  return {
    kind: m[1] === "s3" ? "s3" : "gcs",
    bucket: m[2],
    prefix: (m[3] ?? "").replace(/^\/+|\/+$/g, ""),
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

/** Where the operator finds a GCS credentials file from the backup Secret (`credentials.json`). */
export const BACKUP_CREDENTIALS_DIR = "/var/run/secrets/ktf/backup";

/** The object key of a state version: the serial zero-padded, so keys sort as serials do. */
export function backupKey(target: BackupTarget, namespace: string, workspace: string, serial: number): string {
  return [target.prefix, namespace, workspace, `${String(serial).padStart(12, "0")}.tfstate`].filter(Boolean).join("/");
}

/** The folder of a workspace's backups. */
export function backupFolder(target: BackupTarget, namespace: string, workspace: string): string {
  return [target.prefix, namespace, workspace].filter(Boolean).join("/") + "/";
}

/** The serial in a backup's key, or undefined when the key is not one. */
export function serialOfKey(key: string): number | undefined {
  const m = /\/?(\d{12})\.tfstate$/.exec(key);
  return m?.[1] ? Number(m[1]) : undefined;
}

export function describeTarget(t: BackupTarget): string {
  return `${t.kind === "s3" ? "s3" : "gs"}://${t.bucket}${t.prefix ? `/${t.prefix}` : ""}`;
}
