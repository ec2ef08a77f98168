import { createHash } from "node:crypto";

/**
 * The shard of a workspace, and so of its runs: a hash of namespace and name, the same in
 * every replica and every restart for a given shard count. Everything of one workspace (its
 * queue, its claim, its runs' pods) is handled in one shard.
 */
export function shardOf(namespace: string, workspace: string, shards: number): number {
  if (shards <= 1) return 0;
  return createHash("sha256").update(`${namespace}/${workspace}`).digest().readUInt32BE(0) % shards;
}

/**
 * Which shards a member should hold: the live members sorted by identity take shards in
 * turn (shard s to member s mod M). Every replica computes the same answer from the same
 * member list, and the shards are spread as evenly as they can be (a consistent hash is
 * uneven with a handful of shards and replicas, where a round-robin is exact).
 */
export function shardsFor(identity: string, members: readonly string[], shards: number): number[] {
  const sorted = [...new Set(members)].sort();
  const index = sorted.indexOf(identity);
  if (index < 0) return [];
  return Array.from({ length: shards }, (_, s) => s).filter((s) => s % sorted.length === index);
}

/** The Lease of a shard. With one shard it is the leader-election Lease of earlier versions, so an upgrade never runs two leaders. */
export function shardLeaseName(base: string, shard: number, shards: number): string {
  return shards <= 1 ? base : `${base}-shard-${shard}`;
}
