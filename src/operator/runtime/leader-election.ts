import { errorMessage, isApiError } from "../../errors.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Logger } from "../../log.js";
import { sleep } from "../../sleep.js";

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** The local clock; only differences of it are used, so other machines' clocks do not matter. */
  now?: () => number;
}

interface Lease extends KubeObject {
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
 * client-go's leader election on a coordination.k8s.io Lease. A lease is taken when it
 * is free or when its record has not changed for a whole lease duration as measured by
 * this process's own clock (so clock skew between machines does not matter), renewed
 * every retry period, and given up when renewing fails for the renew deadline.
 */
export class LeaderElector {
  private observed?: { record: string; at: number };
  private leading = false;
  private readonly stopper = new AbortController();
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retryPeriod: number;
  private readonly now: () => number;

  constructor(private readonly o: LeaderElectionOptions) {
    this.duration = (o.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadline = (o.renewDeadlineSeconds ?? 10) * 1000;
    this.retryPeriod = (o.retryPeriodSeconds ?? 2) * 1000;
    this.now = o.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until it leads, calls `onStartedLeading`, renews, and returns when leadership
   * is lost (after calling `onStoppedLeading`) or when `stop` is called.
   */
  async run(callbacks: { onStartedLeading: () => void; onStoppedLeading: () => void }): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await sleep(this.retryPeriod, signal);
    if (signal.aborted) return;
    this.leading = true;
    this.o.log.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity }, "Became the leader");
    callbacks.onStartedLeading();
    let lastRenew = this.now();
    while (!signal.aborted) {
      await sleep(this.retryPeriod, signal);
      if (signal.aborted) break;
      // A renewal that hangs (a slow API server) must not outlast the deadline: past it,
      // another replica may take the lease, and two would lead.
      const left = lastRenew + this.renewDeadline - this.now();
      if (left > 0 && (await withinMs(this.tryAcquireOrRenew(), left))) {
        lastRenew = this.now();
      } else if (this.now() - lastRenew >= this.renewDeadline) {
        this.o.log.error({ lease: `${this.o.namespace}/${this.o.name}` }, "Lost the lease");
        break;
      }
    }
    this.leading = false;
    callbacks.onStoppedLeading();
  }

  /** Stops campaigning; a leader hands the lease over at once. */
  async stop(): Promise<void> {
    const wasLeading = this.leading;
    this.stopper.abort();
    if (wasLeading) await this.release();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = this.now();
    try {
      const lease = await client.get<Lease>(RESOURCES.Lease, namespace, name);
      if (!lease) {
        await client.create<Lease>({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: this.duration / 1000, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions]);
      if (this.observed?.record !== record) this.observed = { record, at: now };
      const holder = spec.holderIdentity ?? "";
      const leaseMs = (spec.leaseDurationSeconds ?? this.duration / 1000) * 1000;
      if (holder && holder !== identity && now < this.observed.at + leaseMs) return false;
      const takingOver = holder !== identity;
      await client.replace<Lease>({
        ...lease,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds: this.duration / 1000,
          renewTime: microTime(now),
          ...(takingOver ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
        },
      });
      return true;
    } catch (err) {
      if (!isApiError(err, 409)) this.o.log.warn({ err: errorMessage(err) }, "Cannot take or renew the lease");
      return false;
    }
  }

  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    try {
      const lease = await client.get<Lease>(RESOURCES.Lease, namespace, name);
      if (lease?.spec?.holderIdentity !== identity) return;
      await client.replace<Lease>({ ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.now()) } });
      this.o.log.info({ lease: `${namespace}/${name}` }, "Released the lease");
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, "Cannot release the lease");
    }
  }
}

/** The promise's value, or false when it takes longer than `ms`. */
function withinMs(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
