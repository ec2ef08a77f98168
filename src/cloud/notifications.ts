import { createHmac } from "node:crypto";
import type { NotificationConfiguration } from "./tfc-resources.js";
import type { NotificationSettings } from "./tfc-workspaces.js";

/**
 * A TFC workspace's notification configurations, kept as spec.cloud.notifications says,
 * matched by name. A generic destination's token is write-only in TFC, so, as for sensitive
 * variables, what the operator set is remembered as an HMAC keyed by the API token.
 */
export type DesiredNotification = NotificationSettings;

export interface NotificationChanges {
  create: DesiredNotification[];
  /** TFC refuses to change a destination's type: such a configuration is deleted and created. */
  update: { id: string; notification: DesiredNotification; recreate: boolean }[];
  remove: NotificationConfiguration[];
  /** What status keeps: name -> HMAC of the token set (only for those with a token). */
  hashes: Record<string, string>;
}

export function notificationTokenHash(apiToken: string, n: DesiredNotification): string {
  return createHmac("sha256", apiToken).update(JSON.stringify(["notification", n.name, n.token ?? ""])).digest("hex");
}

export function notificationChanges(
  desired: readonly DesiredNotification[],
  actual: readonly NotificationConfiguration[],
  known: Readonly<Record<string, string>>,
  apiToken: string,
): NotificationChanges {
  const present = new Map(actual.map((a) => [a.name, a]));
  const wanted = new Set(desired.map((d) => d.name));
  const changes: NotificationChanges = { create: [], update: [], remove: actual.filter((a) => !wanted.has(a.name)), hashes: {} };
  for (const n of desired) {
    const hash = n.token ? notificationTokenHash(apiToken, n) : undefined;
    if (hash) changes.hashes[n.name] = hash;
    const a = present.get(n.name);
    if (!a) {
      changes.create.push(n);
      continue;
    }
    const same =
      a.destinationType === n.destinationType &&
      a.enabled === n.enabled &&
      (a.url ?? "") === (n.url ?? "") &&
      sameSet(a.triggers, n.triggers) &&
      sameSet(a.emailAddresses ?? [], n.emailAddresses ?? []) &&
      known[n.name] === hash;
    if (!same) changes.update.push({ id: a.id, notification: n, recreate: a.destinationType !== n.destinationType });
  }
  return changes;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return [...new Set(a)].sort().join("\n") === [...new Set(b)].sort().join("\n");
}
