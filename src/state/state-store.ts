import { gunzipSync } from "node:zlib";
import { IntegrityError, isApiError } from "../errors.js";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CHUNK_KEY, chunkCount, chunkName } from "../archive/chunks.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import type { OwnerReference } from "../kube/owner.js";
import { labelValue } from "../api/names.js";
import { checkStateWrite, stateDigest, stateHeader, type StateHeader } from "./state-file.js";
import {
  STATE_COMPONENT,
  erroredStateName,
  gzipState,
  storedStateSecrets,
  versionAnnotations,
  versionFromAnnotations,
  versionPrefix,
  type StateVersion,
  type StateWriter,
  type StoredStateRef,
} from "./state-versions.js";

/**
 * Where a workspace's state lives: the pointer Secret `tfstate-default-<workspace>`, in the
 * format of the engines' own `kubernetes` backend while the state is small (gzipped JSON
 * under `tfstate`, the same labels, so either can read what the other wrote), and naming
 * the current version, whose chunks hold a state of any size.
 */
export interface StateLocation {
  namespace: string;
  /** The workspace name: the kubernetes backend's secret_suffix. */
  suffix: string;
}

const POINTER_PREFIX = "tfstate-default-";

export function stateSecretName(suffix: string): string {
  return `${POINTER_PREFIX}${suffix}`;
}

/** The workspace whose state pointer this is (the label may be cut to 63 characters, the name is not). */
export function workspaceOfStateSecret(name: string | undefined): string | undefined {
  return name?.startsWith(POINTER_PREFIX) ? name.slice(POINTER_PREFIX.length) : undefined;
}

export function stateLeaseName(suffix: string): string {
  return `lock-tfstate-default-${suffix}`;
}

type Secret = KubeObject & { data?: Record<string, string>; type?: string };

/** Reads the gzipped bytes of a stored state's chunks. */
export type ChunkReader = (ref: StoredStateRef) => Promise<Buffer>;

/** Chunks read through the API (the operator, which may read the namespace's Secrets). */
export function apiChunkReader(client: KubeClient, namespace: string): ChunkReader {
  return async (ref) => {
    const parts: Buffer[] = [];
    for (let i = 0; i < ref.chunks; i++) {
      const secret = await client.get<Secret>(RESOURCES.Secret, namespace, chunkName(ref.name, i));
      const data = secret?.data?.[CHUNK_KEY];
      if (data === undefined) throw new IntegrityError(`chunk ${i} of ${ref.chunks} of the stored state ${ref.name} is missing`);
      parts.push(Buffer.from(data, "base64"));
    }
    return Buffer.concat(parts);
  };
}

/**
 * Chunks of the one stored state mounted in the pod (the run's state sidecar may read no
 * Secret but its pointer): the operator mounts the version current when the pod starts.
 */
export function mountedChunkReader(dir: string, mounted: StoredStateRef | undefined): ChunkReader {
  return async (ref) => {
    if (ref.name !== mounted?.name) {
      throw new IntegrityError(`the state moved on to version ${ref.name} after this run started; run the command again`);
    }
    const parts: Buffer[] = [];
    for (let i = 0; i < ref.chunks; i++) parts.push(await readFile(join(dir, String(i))));
    return Buffer.concat(parts);
  };
}

/** A stored state (a version, a kept or restored one), read through the API and checked against its digest. */
export async function readStoredState(client: KubeClient, namespace: string, ref: StoredStateRef): Promise<Buffer> {
  const bytes = gunzipSync(await apiChunkReader(client, namespace)(ref));
  if (stateDigest(bytes) !== ref.digest) throw new IntegrityError(`the stored state ${ref.name} does not match its digest ${ref.digest}`);
  return bytes;
}

/** The pointer Secret (pure): the state inline while it fits, and always the version's annotations. */
export function stateSecret(loc: StateLocation, version: StateVersion, gz: Buffer, base?: Secret): Secret {
  const data = base?.data ?? {};
  const { tfstate: _old, ...rest } = data;
  return {
    ...(base ?? {}),
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      ...(base?.metadata ?? {}),
      name: stateSecretName(loc.suffix),
      namespace: loc.namespace,
      labels: {
        ...(base?.metadata.labels ?? {}),
        tfstate: "true",
        tfstateSecretSuffix: labelValue(loc.suffix),
        tfstateWorkspace: "default",
        "app.kubernetes.io/managed-by": "ktf",
      },
      annotations: { ...(base?.metadata.annotations ?? {}), ...versionAnnotations(version) },
    },
    type: "Opaque",
    data: version.chunks === 1 ? { ...rest, tfstate: gz.toString("base64") } : rest,
  };
}

/** The current state as the pointer describes it. */
export interface CurrentState {
  header: StateHeader;
  digest: string;
  /** The version the pointer names; absent for a state written by the engine's kubernetes backend. */
  version?: StateVersion;
}

export class StateStore {
  constructor(
    private readonly client: KubeClient,
    private readonly loc: StateLocation,
    private readonly chunks: ChunkReader = apiChunkReader(client, loc.namespace),
  ) {}

  private pointer(): Promise<Secret | undefined> {
    return this.client.get<Secret>(RESOURCES.Secret, this.loc.namespace, stateSecretName(this.loc.suffix));
  }

  /** The state as the engine wrote it, or undefined before the first write. */
  async read(): Promise<Buffer | undefined> {
    return (await this.readWith(await this.pointer()))?.bytes;
  }

  /** The current state's header and version, without reading a chunked state. */
  async current(): Promise<CurrentState | undefined> {
    return this.currentOf(await this.pointer());
  }

  private async readWith(pointer: Secret | undefined): Promise<{ bytes: Buffer } | undefined> {
    if (!pointer) return undefined;
    const version = versionFromAnnotations(pointer.metadata.annotations);
    const inline = pointer.data?.tfstate;
    const bytes = inline ? gunzipSync(Buffer.from(inline, "base64")) : version ? gunzipSync(await this.chunks(version)) : undefined;
    if (!bytes) return undefined;
    if (version && stateDigest(bytes) !== version.digest) {
      throw new IntegrityError(`the state of workspace ${this.loc.suffix} does not match its digest ${version.digest}: it was changed outside ktf or mixed up`);
    }
    return { bytes };
  }

  /**
   * Writes the state as a new version, then points the workspace at it: a reader sees the
   * old state or the new one, never a mix, and a write cut off halfway leaves the old one
   * current. Refuses (StateConflictError) a state that does not continue the current one.
   */
  async write(bytes: Buffer, writer: StateWriter, now = new Date()): Promise<{ version: StateVersion; unchanged: boolean }> {
    const next = stateHeader(bytes);
    const digest = stateDigest(bytes);
    const gz = gzipState(bytes);
    let version: StateVersion | undefined;
    for (let attempt = 0; ; attempt++) {
      const pointer = await this.pointer();
      const current = await this.currentOf(pointer);
      checkStateWrite(current?.header, next);
      if (current?.digest === digest && current.version) return { version: current.version, unchanged: true };
      version ??= await this.store(STATE_COMPONENT.version, { name: versionPrefix(this.loc.suffix, next.serial), ...next, digest, size: bytes.length, chunks: chunkCount(gz.length), written: now.toISOString(), ...writer }, gz);
      try {
        const desired = stateSecret(this.loc, version, gz, pointer);
        if (pointer) await this.client.replace(desired);
        else await this.client.create(desired);
        return { version, unchanged: false };
      } catch (err) {
        // Written meanwhile (the resourceVersion moved on): check the rules again against it.
        if (!(isApiError(err, 409) || isApiError(err, 404)) || attempt >= 5) throw err;
      }
    }
  }

  private async currentOf(pointer: Secret | undefined): Promise<CurrentState | undefined> {
    const version = versionFromAnnotations(pointer?.metadata.annotations);
    if (version) return { header: { serial: version.serial, lineage: version.lineage }, digest: version.digest, version };
    const legacy = await this.readWith(pointer);
    return legacy && { header: stateHeader(legacy.bytes), digest: stateDigest(legacy.bytes) };
  }

  /**
   * Keeps a state the engine could not save (it wrote errored.tfstate) where the run's pod
   * going away cannot take it; `ktf state recover RUN` pushes it back.
   */
  keepErrored(bytes: Buffer, writer: StateWriter & { run: string }, now = new Date()): Promise<StateVersion> {
    return this.keep(STATE_COMPONENT.errored, erroredStateName(this.loc.suffix, writer.run), bytes, writer, now);
  }

  /** Stores a state beside the versions without making it current (for a run to push it back). */
  async keep(component: string, name: string, bytes: Buffer, writer: StateWriter, now = new Date(), owner?: OwnerReference): Promise<StateVersion> {
    const gz = gzipState(bytes);
    const version: StateVersion = { name, ...stateHeader(bytes), digest: stateDigest(bytes), size: bytes.length, chunks: chunkCount(gz.length), written: now.toISOString(), ...writer };
    return this.store(component, version, gz, owner);
  }

  private async store(component: string, version: StateVersion, gz: Buffer, owner?: OwnerReference): Promise<StateVersion> {
    for (const secret of storedStateSecrets({ namespace: this.loc.namespace, workspace: this.loc.suffix, component, version, gz, ...(owner ? { owner } : {}) })) {
      try {
        await this.client.create(secret);
      } catch (err) {
        // A retried request whose first try went through: the chunk is there already.
        if (!isApiError(err, 409)) throw err;
      }
    }
    return version;
  }
}
