import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BACKUP_CREDENTIALS_DIR, type BackupTarget } from "./backup-target.js";

/** The little of an object store that backups need. Credentials come from the SDKs' own chains. */
export interface ObjectStore {
  put(key: string, bytes: Buffer, metadata: Record<string, string>): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Keys under the prefix. */
  list(prefix: string): Promise<string[]>;
}

/**
 * S3 (or an S3-compatible store at `endpoint`, path-style). Credentials: the SDK's default
 * chain, so the operator's ServiceAccount with IRSA (AWS_ROLE_ARN and the web identity
 * token), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from a Secret.
 */
export function s3Store(target: BackupTarget): ObjectStore {
  const client = new S3Client({
    region: target.region ?? "us-east-1",
    ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
    maxAttempts: 2,
  });
  return {
    async put(key, bytes, metadata) {
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: bytes, ContentType: "application/json", Metadata: metadata }));
    },
    async get(key) {
      const res = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
      return Buffer.from(await (res.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
    },
    async list(prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const res = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(res.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
  };
}

/**
 * Google Cloud Storage (or an emulator at `endpoint`). Credentials: a service account key
 * `credentials.json` in the backup Secret when there is one, else Application Default
 * Credentials (GKE workload identity, GOOGLE_APPLICATION_CREDENTIALS).
 */
export function gcsStore(target: BackupTarget, credentialsDir = BACKUP_CREDENTIALS_DIR): ObjectStore {
  const keyFile = join(credentialsDir, "credentials.json");
  const storage = new Storage({
    retryOptions: { maxRetries: 1 },
    ...(existsSync(keyFile) ? { keyFilename: keyFile } : {}),
    ...(target.endpoint ? { apiEndpoint: target.endpoint, projectId: "ktf" } : {}),
  });
  const bucket = storage.bucket(target.bucket);
  return {
    async put(key, bytes, metadata) {
      await bucket.file(key).save(bytes, { resumable: false, contentType: "application/json", metadata: { metadata } });
    },
    async get(key) {
      const [bytes] = await bucket.file(key).download();
      return bytes;
    },
    async list(prefix) {
      const [files] = await bucket.getFiles({ prefix });
      return files.map((f) => f.name);
    },
  };
}

export function objectStoreFor(target: BackupTarget): ObjectStore {
  return target.kind === "s3" ? s3Store(target) : gcsStore(target);
}
