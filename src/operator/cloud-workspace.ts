import type { Workspace } from "../api/workspace.js";
import type { CloudStatus } from "../api/cloud.js";
import type { CliCredentials } from "../cloud/credentials.js";
import { apiRoot } from "../cloud/tfc-transport.js";
import { isFinalRunStatus, TfcClient, type Fetch, type Workspace as TfcWorkspace } from "../cloud/tfc-client.js";
import { variableChanges, type DesiredVariable } from "../cloud/variables.js";
import { desiredSettings, settingsDrift, type CloudWorkspaceSettings } from "../cloud/workspace-settings.js";
import { CloudSyncError, errorMessage, isCloudApiError, KtfError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { EventSink } from "./controllers/types.js";
import { isSecretSource, secretValue, sourceValue, type SecretReader } from "./cloud-values.js";
import { projectId, syncNotifications, syncRunTriggers } from "./cloud-workspace-links.js";

export interface CloudSyncOptions {
  client: KubeClient;
  events: EventSink;
  fetch: Fetch;
  /** The installation's CLI credentials file (ktf install --cloud-credentials), when it has one. */
  credentials?: () => Promise<CliCredentials | undefined>;
  /** The directory of the installation's mounted variables (ktf install --cloud-variables), when it has one. */
  mountedVariablesDir?: string;
}

/** How the controllers reach TFC: their client and events, and the installation's fetch and credentials. */
export function cloudSyncOptions(base: Pick<CloudSyncOptions, "client" | "events">, cloud: Omit<CloudSyncOptions, "client" | "events"> | undefined): CloudSyncOptions {
  return {
    ...base,
    fetch: cloud?.fetch ?? fetch,
    ...(cloud?.credentials ? { credentials: cloud.credentials } : {}),
    ...(cloud?.mountedVariablesDir ? { mountedVariablesDir: cloud.mountedVariablesDir } : {}),
  };
}

/** The state's outputs as the workspace shows them (the engine's state file shape). */
export type CloudOutputs = Record<string, { value: unknown; type?: unknown; sensitive?: boolean }>;

export interface CloudSyncResult {
  cloud: CloudStatus;
  /** Something is still moving in TFC (a run, outputs not yet read from a new state): look again soon. */
  settling: boolean;
  outputs?: CloudOutputs;
  serial?: number;
}

/** Says which Workspace made a TFC workspace, so that a lost status does not make it a stranger. */
export function ownerDescription(ws: Workspace): string {
  return `Managed by ktf: Workspace ${ws.metadata.namespace}/${ws.metadata.name} (uid ${ws.metadata.uid})`;
}

/** The API client for the workspace's TFC host: the workspace's own token, else the installation's. */
export async function cloudClient(o: CloudSyncOptions, ws: Workspace): Promise<{ client: TfcClient; token: string }> {
  const cloud = ws.spec.cloud;
  if (!cloud) throw new KtfError(`workspace ${ws.metadata.name} has no spec.cloud`);
  let token: string | undefined;
  const ref = cloud.token?.secretKeyRef;
  if (ref) {
    const field = "spec.cloud.token.secretKeyRef";
    token = (await secretValue(secretReader(o), ws, field, ref, "CloudCredentials")).trim();
    if (!token) throw new CloudSyncError("CloudCredentials", `${field}: Secret ${ref.name} has no key ${ref.key}`);
  } else {
    const { host } = apiRoot(cloud.hostname);
    token = (await o.credentials?.())?.tokenFor(host);
    if (!token) throw new CloudSyncError("CloudCredentials", `no token for ${host}: give the installation a credentials file (ktf install --cloud-credentials SECRET) with credentials "${host}" { token = ... }, or the workspace spec.cloud.token`);
  }
  return { client: new TfcClient({ hostname: cloud.hostname, token, fetch: o.fetch }), token };
}

/**
 * Makes the TFC workspace what the spec says: found by name (created, or adopted only when
 * the spec says so), its settings and tags, its variables (put back when changed in TFC, an
 * event says so); and reads back its current run, state serial and outputs.
 */
export async function syncCloudWorkspace(o: CloudSyncOptions, ws: Workspace, token: { client: TfcClient; token: string }): Promise<CloudSyncResult> {
  const cloud = ws.spec.cloud;
  if (!cloud) throw new KtfError(`workspace ${ws.metadata.name} has no spec.cloud`);
  const { client } = token;
  const desired = desiredSettings(ws, await projectId(client, ws));
  const known = ws.status?.cloud;
  let remote = await client.workspaces.byName(cloud.organization, desired.name);
  let adopted = known?.adopted ?? false;
  if (!remote) {
    remote = await client.workspaces.create(cloud.organization, { ...tfcSettings(desired, ws), name: desired.name, tags: desired.tags });
    o.events.normal(ws, "CloudWorkspaceCreated", `Created TFC workspace ${cloud.organization}/${desired.name} (${remote.id})`);
  } else if (remote.id !== known?.workspaceId && remote.description !== ownerDescription(ws)) {
    if (!cloud.adopt) {
      throw new CloudSyncError("CloudWorkspaceTaken", `TFC workspace ${cloud.organization}/${desired.name} exists and is not this Workspace's: set spec.cloud.adopt: true to take it over, or spec.cloud.workspace to another name`);
    }
    adopted = true;
    o.events.normal(ws, "CloudWorkspaceAdopted", `Adopted TFC workspace ${cloud.organization}/${desired.name} (${remote.id})`);
  }
  const actual = fromTfc(remote);
  const drift = settingsDrift(desired, actual).filter((k) => k !== "tags");
  if (drift.length || remote.description !== ownerDescription(ws)) {
    remote = await client.workspaces.update(remote.id, tfcSettings(desired, ws));
    if (drift.length) o.events.normal(ws, "CloudSettingsSet", `Set ${drift.join(", ")} of TFC workspace ${desired.name} as the spec says`);
  }
  await client.workspaces.addTags(remote.id, desired.tags.filter((t) => !actual.tags.includes(t)));
  await client.workspaces.removeTags(remote.id, actual.tags.filter((t) => !desired.tags.includes(t)));

  const hashes = await syncVariables(o, ws, client, remote.id, token.token);
  const links = { events: o.events, secrets: secretReader(o) };
  const runTriggers = await syncRunTriggers(links, client, ws, remote.id);
  const notifications = await syncNotifications(links, client, ws, remote.id, token.token);
  const state = await client.stateVersions.current(remote.id);
  const run = remote.currentRunId ? await client.runs.get(remote.currentRunId) : undefined;
  return {
    settling: Boolean((run && !isFinalRunStatus(run.status)) || (state && !state.resourcesProcessed)),
    cloud: {
      workspaceId: remote.id,
      workspaceName: remote.name,
      ...(adopted ? { adopted } : {}),
      variables: hashes,
      ...(runTriggers ? { runTriggers } : {}),
      ...(notifications ? { notifications } : {}),
      ...(run ? { run: { id: run.id, status: run.status } } : {}),
    },
    ...(state ? { serial: state.serial, outputs: Object.fromEntries(state.outputs.map((out) => [out.name, { value: out.value, type: out.type, sensitive: out.sensitive }])) } : {}),
  };
}

async function syncVariables(o: CloudSyncOptions, ws: Workspace, client: TfcClient, workspaceId: string, token: string): Promise<Record<string, string>> {
  const desired = await desiredVariables(o, ws);
  const changes = variableChanges(desired, await client.variables.list(workspaceId), ws.status?.cloud?.variables ?? {}, token);
  for (const v of changes.create) await client.variables.create(workspaceId, v);
  for (const u of changes.update) {
    if (u.recreate) {
      await client.variables.delete(workspaceId, u.id);
      await client.variables.create(workspaceId, u.variable);
    } else await client.variables.update(workspaceId, u.id, u.patch);
    if (u.editedInCloud) o.events.normal(ws, "CloudVariableRestored", `Variable ${u.variable.key} (${u.variable.category}) was changed in TFC; set it back as the spec says`);
  }
  for (const r of changes.remove) await client.variables.delete(workspaceId, r.id);
  return changes.hashes;
}

/** spec.variables as terraform variables, spec.env as environment variables, their values read now. */
async function desiredVariables(o: CloudSyncOptions, ws: Workspace): Promise<DesiredVariable[]> {
  const r = secretReader(o);
  const out: DesiredVariable[] = [];
  for (const [i, v] of ws.spec.variables.entries()) out.push({ key: v.name, category: "terraform", value: await sourceValue(r, ws, `spec.variables[${i}]`, v), hcl: v.hcl, sensitive: isSecretSource(v) });
  for (const [i, e] of ws.spec.env.entries()) out.push({ key: e.name, category: "env", value: await sourceValue(r, ws, `spec.env[${i}]`, e), hcl: false, sensitive: isSecretSource(e) });
  return out;
}

function secretReader(o: CloudSyncOptions): SecretReader {
  return { client: o.client, ...(o.mountedVariablesDir ? { mountedDir: o.mountedVariablesDir } : {}) };
}

function tfcSettings(s: CloudWorkspaceSettings, ws: Workspace) {
  return {
    name: s.name,
    ...(s.terraformVersion ? { terraformVersion: s.terraformVersion } : {}),
    executionMode: s.executionMode,
    ...(s.agentPoolId ? { agentPoolId: s.agentPoolId } : {}),
    ...(s.projectId ? { projectId: s.projectId } : {}),
    autoApply: s.autoApply,
    workingDirectory: s.workingDirectory,
    description: ownerDescription(ws),
  };
}

function fromTfc(w: TfcWorkspace): CloudWorkspaceSettings {
  return {
    name: w.name,
    ...(w.terraformVersion ? { terraformVersion: w.terraformVersion } : {}),
    executionMode: (w.executionMode ?? "remote") as CloudWorkspaceSettings["executionMode"],
    ...(w.agentPoolId ? { agentPoolId: w.agentPoolId } : {}),
    ...(w.projectId ? { projectId: w.projectId } : {}),
    autoApply: w.autoApply,
    workingDirectory: w.workingDirectory ?? "",
    tags: w.tagNames,
  };
}

/** A failure as the Ready condition says it: a token refused is a credentials problem, not a crash. */
export function cloudFailure(err: unknown): { reason: CloudSyncError["reason"]; message: string } {
  if (err instanceof CloudSyncError) return { reason: err.reason, message: err.message };
  if (isCloudApiError(err, 401)) return { reason: "CloudCredentials", message: errorMessage(err) };
  return { reason: "CloudSyncFailed", message: errorMessage(err) };
}
