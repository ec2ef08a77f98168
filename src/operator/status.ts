import type { Condition } from "../api/meta.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import type { ResourceType } from "../kube/resources.js";

export type ConditionInput = Omit<Condition, "lastTransitionTime" | "message"> & { message?: string };

/**
 * The list with `update` set: the transition time moves only when the status changes,
 * so that writing the same condition twice changes nothing (reconciles are idempotent).
 */
export function setCondition(list: readonly Condition[] | undefined, update: ConditionInput, now: Date): Condition[] {
  const current = list ?? [];
  const existing = current.find((c) => c.type === update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    reason: update.reason,
    message: update.message ?? "",
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : now.toISOString(),
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
  };
  return [...current.filter((c) => c.type !== update.type), next].sort((a, b) => a.type.localeCompare(b.type));
}

/** Deep equality of JSON values, to skip status writes that would change nothing. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, sortKeys(v)]),
  );
}

/**
 * A JSON merge patch (RFC 7386) that turns `before` into `after`: fields that went away
 * become null, objects are diffed field by field, arrays and scalars are replaced whole.
 */
export function mergePatch(before: unknown, after: unknown): unknown {
  if (!isPlainObject(before) || !isPlainObject(after)) return after === undefined ? null : after;
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (b === undefined) {
      if (a !== undefined) patch[key] = null;
    } else if (!sameJson(a, b)) {
      patch[key] = mergePatch(a, b);
    }
  }
  return patch;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Applies `change` to a copy of the object's status and writes it (as a merge patch of the
 * status subresource) only when it differs: a reconcile that changes nothing writes nothing.
 * The object's status and resourceVersion are updated in place to what was written.
 * `conditional` makes the write fail (409) when the object changed since it was read: for a
 * status computed from a cached copy that may lag behind the API.
 */
export async function writeStatus<S extends { observedGeneration?: number }>(
  client: KubeClient,
  type: ResourceType,
  object: Pick<KubeObject, "metadata"> & { status?: S },
  change: (status: S) => void,
  options: { conditional?: boolean } = {},
): Promise<void> {
  const status = structuredClone(object.status ?? ({} as S));
  change(status);
  status.observedGeneration = object.metadata.generation;
  if (sameJson(status, object.status ?? {})) return;
  const precondition = options.conditional && object.metadata.resourceVersion ? { resourceVersion: object.metadata.resourceVersion } : undefined;
  const written = await client.patchStatus<KubeObject>(type, object.metadata.namespace, object.metadata.name ?? "", mergePatch(object.status ?? {}, status), precondition);
  object.status = status;
  // A later conditional write of the same reconcile starts from the version this one made.
  if (written.metadata.resourceVersion) object.metadata.resourceVersion = written.metadata.resourceVersion;
}
