import { isApiError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { stateLeaseName, type StateLocation } from "./state-store.js";

/** The engine's lock info (terraform's statemgr.LockInfo), as the http backend sends it. */
export interface LockInfo {
  ID: string;
  Operation?: string;
  Info?: string;
  Who?: string;
  Version?: string;
  Created?: string;
  Path?: string;
}

type Lease = KubeObject & { spec?: { holderIdentity?: string } };

const INFO_ANNOTATION = "ktf.dev/lock-info";
const RUN_ANNOTATION = "ktf.dev/locked-by-run";

export type LockResult = { ok: true } | { ok: false; holder: LockInfo };

/**
 * The state lock: a Lease named after the state, held by the lock ID. Unlike leader
 * election it never expires by itself (as in every terraform backend): a lock left by a
 * run that died is released by the operator when that run ends, or by force-unlock.
 */
export class StateLock {
  constructor(
    private readonly client: KubeClient,
    private readonly loc: StateLocation,
    /** The run taking the lock, recorded so that the operator can release a dead run's lock. */
    private readonly run: string,
  ) {}

  private get name(): string {
    return stateLeaseName(this.loc.suffix);
  }

  private holderOf(lease: Lease | undefined): LockInfo | undefined {
    const id = lease?.spec?.holderIdentity;
    if (!id) return undefined;
    try {
      return JSON.parse(lease.metadata.annotations?.[INFO_ANNOTATION] ?? "") as LockInfo;
    } catch {
      return { ID: id };
    }
  }

  async lock(info: LockInfo): Promise<LockResult> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.client.get<Lease>(RESOURCES.Lease, this.loc.namespace, this.name);
      const holder = this.holderOf(lease);
      if (holder && holder.ID !== info.ID) return { ok: false, holder };
      const desired: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
          ...(lease?.metadata ?? {}),
          name: this.name,
          namespace: this.loc.namespace,
          annotations: { ...(lease?.metadata.annotations ?? {}), [INFO_ANNOTATION]: JSON.stringify(info), [RUN_ANNOTATION]: this.run },
        },
        spec: { ...(lease?.spec ?? {}), holderIdentity: info.ID },
      };
      try {
        if (lease) await this.client.replace(desired);
        else await this.client.create(desired);
        return { ok: true };
      } catch (err) {
        // Someone else changed the lease between our read and write: look again.
        if (!isApiError(err, 409) || attempt >= 5) throw err;
      }
    }
  }

  /** Releases the lock when `id` holds it (force-unlock passes the ID it was told). */
  async unlock(id: string): Promise<LockResult> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.client.get<Lease>(RESOURCES.Lease, this.loc.namespace, this.name);
      const holder = this.holderOf(lease);
      if (!lease || !holder) return { ok: true };
      if (holder.ID !== id) return { ok: false, holder };
      try {
        await this.client.replace(releasedLease(lease));
        return { ok: true };
      } catch (err) {
        if (!isApiError(err, 409) || attempt >= 5) throw err;
      }
    }
  }

  /** The ID holding the lock, if any. */
  async holder(): Promise<LockInfo | undefined> {
    return this.holderOf(await this.client.get<Lease>(RESOURCES.Lease, this.loc.namespace, this.name));
  }
}

function releasedLease(lease: Lease): Lease {
  const annotations = { ...(lease.metadata.annotations ?? {}) };
  delete annotations[INFO_ANNOTATION];
  delete annotations[RUN_ANNOTATION];
  return { ...lease, metadata: { ...lease.metadata, annotations }, spec: { ...(lease.spec ?? {}), holderIdentity: "" } };
}

/**
 * Releases the lock if the given run still holds it: the engine of a run that was killed
 * never unlocked. Used by the operator when a run ends; returns whether it released it.
 */
export async function releaseLockOfRun(client: KubeClient, loc: StateLocation, run: string): Promise<boolean> {
  const lease = await client.get<Lease>(RESOURCES.Lease, loc.namespace, stateLeaseName(loc.suffix));
  if (!lease?.spec?.holderIdentity || lease.metadata.annotations?.[RUN_ANNOTATION] !== run) return false;
  try {
    await client.replace(releasedLease(lease));
    return true;
  } catch (err) {
    if (isApiError(err, 409)) return false;
    throw err;
  }
}
