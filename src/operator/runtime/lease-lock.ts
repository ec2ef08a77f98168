import { errorMessage, isApiError } from "../../errors.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Logger } from "../../log.js";

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * When each Lease's record (holder, renew time, transitions) was last seen to change, by
 * this process's own clock: a lease is live while its record changed less than a lease
 * duration ago, so clock skew between machines does not matter (client-go's rule).
 */
export class LeaseObserver {
  private readonly seen = new Map<string, { record: string; at: number }>();

  constructor(private readonly now: () => number) {}

  /** How long ago (ms) the lease's record last changed; 0 the first time it is seen. */
  age(lease: Lease): number {
    const name = lease.metadata.name ?? "";
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions]);
    const now = this.now();
    const before = this.seen.get(name);
    if (before?.record !== record) this.seen.set(name, { record, at: now });
    return now - (this.seen.get(name)?.at ?? now);
  }

  /** Whether someone holds it and has renewed it within its duration. */
  live(lease: Lease, defaultDurationMs: number): boolean {
    const holder = lease.spec?.holderIdentity ?? "";
    const age = this.age(lease);
    return holder !== "" && age < (lease.spec?.leaseDurationSeconds ?? defaultDurationMs / 1000) * 1000;
  }

  forget(name: string): void {
    this.seen.delete(name);
  }
}

export interface LeaseLockOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  durationMs: number;
  observer: LeaseObserver;
  now: () => number;
  log: Logger;
  /** Labels and annotations the lease carries (a member lease says how many shards its replica counts). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One coordination.k8s.io Lease held by one identity: taken when free or expired, renewed, released. */
export class LeaseLock {
  constructor(private readonly o: LeaseLockOptions) {}

  get name(): string {
    return this.o.name;
  }

  /** Takes or renews the lease; false when another holds it live, or the API refused (409: someone was faster). */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = this.o.now();
    const seconds = this.o.durationMs / 1000;
    const meta = { ...(this.o.labels ? { labels: this.o.labels } : {}), ...(this.o.annotations ? { annotations: this.o.annotations } : {}) };
    try {
      const lease = await client.get<Lease>(RESOURCES.Lease, namespace, name);
      if (!lease) {
        await client.create<Lease>({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace, ...meta },
          spec: { holderIdentity: identity, leaseDurationSeconds: seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? "";
      if (holder && holder !== identity && this.o.observer.live(lease, this.o.durationMs)) return false;
      const takingOver = holder !== identity;
      await client.replace<Lease>({
        ...lease,
        metadata: { ...lease.metadata, labels: { ...lease.metadata.labels, ...this.o.labels }, annotations: { ...lease.metadata.annotations, ...this.o.annotations } },
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: seconds,
          renewTime: microTime(now),
          ...(takingOver ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
        },
      });
      return true;
    } catch (err) {
      if (!isApiError(err, 409)) this.o.log.warn({ lease: `${namespace}/${name}`, err: errorMessage(err) }, "Cannot take or renew the lease");
      return false;
    }
  }

  /** Hands the lease over at once: free, with a 1 s duration, for whoever asks next. */
  async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    try {
      const lease = await client.get<Lease>(RESOURCES.Lease, namespace, name);
      if (lease?.spec?.holderIdentity !== identity) return;
      await client.replace<Lease>({ ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.o.now()) } });
      this.o.log.info({ lease: `${namespace}/${name}` }, "Released the lease");
    } catch (err) {
      this.o.log.warn({ lease: `${namespace}/${name}`, err: errorMessage(err) }, "Cannot release the lease");
    }
  }
}
