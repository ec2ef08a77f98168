import { errorMessage } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Logger } from "../../log.js";
import { sleep } from "../../sleep.js";
import { LeaseLock, LeaseObserver, type Lease } from "./lease-lock.js";
import { shardLeaseName, shardsFor } from "./shards.js";

export interface ShardCoordinatorOptions {
  client: KubeClient;
  /** Where the Leases live: the operator's namespace. */
  namespace: string;
  /** The operator's name: shard Leases are <base> (one shard) or <base>-shard-<i>, member Leases <base>-member-<identity>. */
  base: string;
  identity: string;
  shards: number;
  log: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** The local clock; only differences of it are used. */
  now?: () => number;
  /** Told whenever the set of shards this replica holds changes. */
  onChange?: (held: ReadonlySet<number>) => void;
}

/** Marks the operator's Leases (the value is the operator's name)... */
export const OPERATOR_LABEL = "ktf.dev/operator";
/** ...and says which they are: a replica's membership, or a shard. */
export const LEASE_ROLE_LABEL = "ktf.dev/lease-role";
/** On a member Lease: how many shards that replica divides the work into. */
export const SHARDS_ANNOTATION = "ktf.dev/shards";
/** A member Lease unchanged this many lease durations belongs to a replica long gone: it is deleted. */
const STALE_MEMBER_DURATIONS = 10;

/**
 * Shares the work among the operator's replicas. Each replica renews a member Lease; every
 * replica lists the live members and computes the same assignment (shardsFor); it takes the
 * Lease of each shard assigned to it (free, released, or expired by its own clock) and gives
 * up the others. A shard is worked on only while its Lease is held, so each workspace is
 * handled by one replica at a time; a replica that dies stops renewing, and within a lease
 * duration the others see it gone and take its shards.
 *
 * Replicas that disagree on the shard count (a rollout that changes it), or a live leader of
 * a version without shards, would split the work differently: then no replica works until
 * they agree, which a finished rollout brings.
 */
export class ShardCoordinator {
  private readonly held = new Set<number>();
  /** Shards given up at the last tick, released at this one: reconciles in flight end first. */
  private releasing: number[] = [];
  /** When (by the local clock, at the start of the round) each shard's Lease was last taken or renewed. */
  private readonly lastRenew = new Map<number, number>();
  private readonly locks: LeaseLock[];
  private readonly member: LeaseLock;
  private readonly observer: LeaseObserver;
  private readonly stopper = new AbortController();
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private paused = "";

  constructor(private readonly o: ShardCoordinatorOptions) {
    this.durationMs = (o.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = (o.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (o.retryPeriodSeconds ?? 2) * 1000;
    this.now = o.now ?? Date.now;
    this.observer = new LeaseObserver(this.now);
    const lock = (name: string, extra: Partial<ConstructorParameters<typeof LeaseLock>[0]> = {}) =>
      new LeaseLock({ client: o.client, namespace: o.namespace, name, identity: o.identity, durationMs: this.durationMs, observer: this.observer, now: this.now, log: o.log, ...extra });
    this.locks = Array.from({ length: o.shards }, (_, s) => lock(shardLeaseName(o.base, s, o.shards), { labels: { [OPERATOR_LABEL]: o.base, [LEASE_ROLE_LABEL]: "shard" } }));
    this.member = lock(memberLeaseName(o.base, o.identity), { labels: { [OPERATOR_LABEL]: o.base, [LEASE_ROLE_LABEL]: "member" }, annotations: { [SHARDS_ANNOTATION]: String(o.shards) } });
  }

  /**
   * Whether to work on the shard now. Also false once its Lease is past the renew deadline
   * before a round has said so: a replica that was frozen (SIGSTOP, a stalled node) and wakes
   * up must not work on a shard another may have taken meanwhile.
   */
  owns(shard: number): boolean {
    return this.held.has(shard) && this.now() - (this.lastRenew.get(shard) ?? 0) < this.renewDeadlineMs;
  }

  get shardsHeld(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  /** Coordinates until `stop`. */
  async run(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      await this.tick();
      await sleep(this.retryMs, signal);
    }
  }

  /** Stops working on every shard, hands their Leases over at once and leaves the members. */
  async stop(): Promise<void> {
    this.stopper.abort();
    const had = [...this.held, ...this.releasing];
    if (this.held.size) {
      this.held.clear();
      this.o.onChange?.(this.held);
    }
    await Promise.all(this.locksOf(had).map((l) => l.release()));
    await this.o.client.delete(RESOURCES.Lease, this.o.namespace, this.member.name).catch(() => false);
  }

  /**
   * One round: renew membership, see who is live, give up and take shards to match. A round
   * that has not answered by the renew deadline counts as failed (a hung API call must not
   * keep this replica working on shards another may have taken).
   */
  async tick(): Promise<void> {
    const started = this.now();
    const round = await within(this.round(), this.renewDeadlineMs);
    let changed = false;
    if (round) {
      for (const s of this.held) {
        if (round.wanted.has(s)) continue;
        this.held.delete(s);
        this.releasing.push(s);
        changed = true;
      }
      for (const s of round.renewed) {
        this.lastRenew.set(s, started);
        if (round.wanted.has(s) && !this.held.has(s)) {
          this.held.add(s);
          changed = true;
        }
      }
    }
    for (const s of this.held) {
      if (this.now() - (this.lastRenew.get(s) ?? started) < this.renewDeadlineMs) continue;
      // Another replica may take it from now on: stop working on it.
      this.o.log.error({ lease: this.locks[s]?.name }, "Lost the lease of a shard");
      this.held.delete(s);
      changed = true;
    }
    if (changed) {
      this.o.log.info({ identity: this.o.identity, shards: this.shardsHeld, of: this.o.shards }, "Shards held");
      this.o.onChange?.(this.held);
    }
  }

  /** The API side of a round: which shards to hold, and which Leases it took or renewed. */
  private async round(): Promise<{ wanted: Set<number>; renewed: number[] }> {
    const releasing = this.releasing;
    this.releasing = [];
    await Promise.all(this.locksOf(releasing).map((l) => l.release()));
    await this.member.tryAcquireOrRenew();
    const members = await this.liveMembers();
    const wanted = members ? this.wanted(members) : new Set(this.held);
    const renewed: number[] = [];
    await Promise.all([...wanted].map(async (s) => (await this.locks[s]?.tryAcquireOrRenew()) && renewed.push(s)));
    return { wanted, renewed };
  }

  private locksOf(shards: readonly number[]): LeaseLock[] {
    return shards.flatMap((s) => this.locks[s] ?? []);
  }

  /** The shards to hold: none while the replicas disagree on how to split the work. */
  private wanted(members: Member[]): Set<number> {
    const others = members.filter((m) => m.shards !== this.o.shards);
    const pause = others.length ? `replicas ${others.map((m) => m.identity).join(", ")} split the work into other shard counts` : "";
    if (pause !== this.paused) {
      if (pause) this.o.log.warn({ shards: this.o.shards }, `Not working until the replicas agree: ${pause}`);
      this.paused = pause;
    }
    if (pause) return new Set();
    return new Set(shardsFor(this.o.identity, members.map((m) => m.identity), this.o.shards));
  }

  /**
   * The live members, this one always among them; undefined when they cannot be listed (then
   * nothing changes hands). A leader of a version without member Leases counts as a member
   * with one shard.
   */
  private async liveMembers(): Promise<Member[] | undefined> {
    try {
      const { items } = await this.o.client.list<Lease>(RESOURCES.Lease, this.o.namespace, { labelSelector: `${OPERATOR_LABEL}=${this.o.base}` });
      const members: Member[] = [{ identity: this.o.identity, shards: this.o.shards }];
      for (const lease of items) {
        // Every shard Lease is looked at each round, so that one whose holder died is known
        // expired a lease duration after its last renewal, not after this replica first asks for it.
        if (lease.metadata.labels?.[LEASE_ROLE_LABEL] !== "member") {
          this.observer.age(lease);
          continue;
        }
        const identity = lease.spec?.holderIdentity ?? "";
        if (identity === this.o.identity) continue;
        if (this.observer.live(lease, this.durationMs)) members.push({ identity, shards: Number(lease.metadata.annotations?.[SHARDS_ANNOTATION] ?? 1) });
        else if (this.observer.age(lease) > STALE_MEMBER_DURATIONS * this.durationMs) await this.removeStale(lease);
      }
      if (this.o.shards > 1) {
        const legacy = await this.o.client.get<Lease>(RESOURCES.Lease, this.o.namespace, this.o.base);
        const holder = legacy?.spec?.holderIdentity ?? "";
        if (legacy && !members.some((m) => m.identity === holder) && this.observer.live(legacy, this.durationMs)) members.push({ identity: holder, shards: 1 });
      }
      return members;
    } catch (err) {
      this.o.log.warn({ err: errorMessage(err) }, "Cannot list the operator's replicas; keeping the shards held");
      return undefined;
    }
  }

  private async removeStale(lease: Lease): Promise<void> {
    const name = lease.metadata.name ?? "";
    await this.o.client.delete(RESOURCES.Lease, this.o.namespace, name, { ...(lease.metadata.uid ? { uid: lease.metadata.uid } : {}) }).catch(() => false);
    this.observer.forget(name);
  }
}

/** The promise's value, or undefined when it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

interface Member {
  identity: string;
  shards: number;
}

/** A member Lease's name: the identity (a pod name) made a valid object name. */
export function memberLeaseName(base: string, identity: string): string {
  const safe = identity.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "");
  return `${base}-member-${safe}`.slice(0, 253);
}
