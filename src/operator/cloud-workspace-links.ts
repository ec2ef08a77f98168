import type { Workspace } from "../api/workspace.js";
import type { TfcClient } from "../cloud/tfc-client.js";
import { notificationChanges, type DesiredNotification } from "../cloud/notifications.js";
import { CloudSyncError, isCloudApiError } from "../errors.js";
import type { EventSink } from "./controllers/types.js";
import { secretValue, type SecretReader } from "./cloud-values.js";

/**
 * What ties a TFC workspace to the rest of its organization: its project, the workspaces
 * whose applies queue a run in it (run triggers), and where it notifies. Old TFE and OTF
 * servers lack some of these calls: a spec that needs one gets a condition naming the field
 * and the missing call, and a spec that does not is never refused for it.
 */
export interface LinkOptions {
  events: EventSink;
  secrets: SecretReader;
}

/** A call the server may not serve: its 404 becomes a CloudUnsupported error naming the field. */
async function served<T>(field: string, what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isCloudApiError(err, 404)) throw new CloudSyncError("CloudUnsupported", `${field}: this TFC/TFE server does not serve ${what} (${err.request} answered 404)`);
    throw err;
  }
}

/** spec.cloud.project as a project ID; undefined when the spec names none. */
export async function projectId(client: TfcClient, ws: Workspace): Promise<string | undefined> {
  const cloud = ws.spec.cloud;
  if (!cloud?.project) return undefined;
  const project = await served("spec.cloud.project", "projects", client.projects.byName(cloud.organization, cloud.project));
  if (!project) throw new CloudSyncError("CloudSyncFailed", `spec.cloud.project: organization ${cloud.organization} has no project ${cloud.project}`);
  return project.id;
}

/** The inbound run triggers are those of spec.cloud.runTriggers, no more; returns their sources' IDs for status. */
export async function syncRunTriggers(o: LinkOptions, client: TfcClient, ws: Workspace, workspaceId: string): Promise<string[] | undefined> {
  const cloud = ws.spec.cloud;
  if (!cloud) return undefined;
  const known = ws.status?.cloud?.runTriggers;
  // Nothing wanted and nothing set by ktf before: the server is not asked (OTF has no run triggers).
  if (!cloud.runTriggers.length && !known?.length) return undefined;
  const sources = new Set<string>();
  for (const [i, t] of cloud.runTriggers.entries()) {
    if (t.id) sources.add(t.id);
    else {
      const source = await client.workspaces.byName(cloud.organization, t.workspace ?? "");
      if (!source) throw new CloudSyncError("CloudSyncFailed", `spec.cloud.runTriggers[${i}].workspace: organization ${cloud.organization} has no workspace ${t.workspace}`);
      sources.add(source.id);
    }
  }
  const inbound = await served("spec.cloud.runTriggers", "run triggers", client.runTriggers.inbound(workspaceId));
  const present = new Set(inbound.map((t) => t.sourceableId));
  for (const source of sources) if (!present.has(source)) await client.runTriggers.create(workspaceId, source);
  const removed = inbound.filter((t) => !t.sourceableId || !sources.has(t.sourceableId));
  for (const t of removed) await client.runTriggers.delete(t.id);
  if (removed.length) o.events.normal(ws, "CloudRunTriggersSet", `Removed run triggers from ${removed.map((t) => t.sourceableName || t.sourceableId).join(", ")}: not in spec.cloud.runTriggers`);
  return sources.size ? [...sources].sort() : undefined;
}

/** The notification configurations are those of spec.cloud.notifications; returns the token HMACs for status. */
export async function syncNotifications(o: LinkOptions, client: TfcClient, ws: Workspace, workspaceId: string, apiToken: string): Promise<Record<string, string> | undefined> {
  const cloud = ws.spec.cloud;
  if (!cloud) return undefined;
  const known = ws.status?.cloud?.notifications;
  if (!cloud.notifications.length && !known) return undefined;
  const desired: DesiredNotification[] = [];
  for (const [i, n] of cloud.notifications.entries()) {
    const token = n.token ? await secretValue(o.secrets, ws, `spec.cloud.notifications[${i}].token`, n.token.secretKeyRef) : undefined;
    desired.push({
      name: n.name,
      destinationType: n.type,
      enabled: n.enabled,
      triggers: n.triggers,
      ...(n.url ? { url: n.url } : {}),
      ...(n.emailAddresses ? { emailAddresses: n.emailAddresses } : {}),
      // A generic destination's token is cleared in TFC when the spec drops it.
      ...(n.type === "generic" ? { token: token ?? "" } : {}),
    });
  }
  const actual = await served("spec.cloud.notifications", "notification configurations", client.notifications.list(workspaceId));
  const changes = notificationChanges(desired, actual, known ?? {}, apiToken);
  for (const n of changes.create) await client.notifications.create(workspaceId, n);
  for (const u of changes.update) {
    if (u.recreate) {
      await client.notifications.delete(u.id);
      await client.notifications.create(workspaceId, u.notification);
    } else await client.notifications.update(u.id, u.notification);
  }
  for (const r of changes.remove) await client.notifications.delete(r.id);
  const touched = [...changes.create, ...changes.update.map((u) => u.notification), ...changes.remove].map((n) => n.name);
  if (touched.length) o.events.normal(ws, "CloudNotificationsSet", `Set notification configurations ${touched.join(", ")} as spec.cloud.notifications says`);
  // None wanted any more, and the old ones removed: nothing is left to keep.
  return cloud.notifications.length ? changes.hashes : undefined;
}
