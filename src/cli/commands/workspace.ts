import { API_VERSION, WORKSPACE } from "../../api/group.js";
import { workspaceSchema, workspaceSpecSchema, type Variable, type Workspace } from "../../api/workspace.js";
import { parseOrThrow } from "../../api/validate.js";
import { UsageError, isApiError } from "../../errors.js";
import { RESOURCES } from "../../kube/resources.js";
import { readLocalSettings, writeLocalSettings } from "../local-settings.js";
import type { KtfOptions } from "../engine-args.js";
import { connect, type Session } from "../session.js";
import { age, table } from "../output/table.js";
import { note, type Terminal } from "../output/terminal.js";

export interface NewWorkspaceOptions extends KtfOptions {
  engine?: string;
  engineVersion?: string;
  var?: string[];
  secretVar?: string[];
  env?: string[];
  secretEnv?: string[];
  serviceAccount?: string;
  workingDir?: string;
  cacheSize?: string;
  storageClass?: string;
  image?: string;
  select?: boolean;
  /** commander's --no-backup and --no-restore. */
  backup?: boolean;
  restore?: boolean;
}

function backupLine(ws: Workspace): string {
  if (!ws.spec.backup) return "off (spec.backup is false)";
  const c = ws.status?.conditions?.find((x) => x.type === "BackedUp");
  if (!c) return "none configured for this installation, or none yet";
  return c.status === "True" ? c.message : `failing: ${c.message}`;
}

/** "name=value" -> [name, value]. */
function keyValue(flag: string, text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`${flag} expects NAME=VALUE, got "${text}"`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** "name=secret/key" -> a variable taken from that Secret key when the run starts. */
function secretRef(flag: string, text: string, sensitive: boolean): { name: string; valueFrom: { secretKeyRef: { name: string; key: string } }; sensitive: boolean } {
  const [name, ref] = keyValue(flag, text);
  const slash = ref.indexOf("/");
  if (slash <= 0 || slash === ref.length - 1) throw new UsageError(`${flag} expects NAME=SECRET/KEY, got "${text}"`);
  return { name, valueFrom: { secretKeyRef: { name: ref.slice(0, slash), key: ref.slice(slash + 1) } }, sensitive };
}

/** The Workspace object `ktf workspace new` creates, validated before anything is sent. */
export function workspaceFromFlags(name: string, namespace: string, o: NewWorkspaceOptions): Workspace {
  const spec = {
    engine: { name: o.engine ?? "tofu", ...(o.engineVersion ? { version: o.engineVersion } : {}) },
    variables: [
      ...(o.var ?? []).map((v) => {
        const [key, value] = keyValue("--var", v);
        return { name: key, value };
      }),
      ...(o.secretVar ?? []).map((v) => secretRef("--secret-var", v, true)),
    ],
    env: [
      ...(o.env ?? []).map((v) => {
        const [key, value] = keyValue("--env", v);
        return { name: key, value };
      }),
      ...(o.secretEnv ?? []).map((v) => secretRef("--secret-env", v, true)),
    ],
    ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : {}),
    ...(o.workingDir ? { workingDir: o.workingDir } : {}),
    ...(o.cacheSize ? { cache: { size: o.cacheSize, ...(o.storageClass ? { storageClassName: o.storageClass } : {}) } } : {}),
    ...(o.image ? { image: o.image } : {}),
    ...(o.backup === false ? { backup: false } : {}),
    ...(o.restore === false ? { restoreFromBackup: false } : {}),
  };
  parseOrThrow(workspaceSpecSchema, spec, `workspace ${name}`, ["spec"]);
  return workspaceSchema.parse({ apiVersion: API_VERSION, kind: WORKSPACE.kind, metadata: { name, namespace }, spec });
}

export async function workspaceNew(t: Terminal, name: string, o: NewWorkspaceOptions): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const ws = workspaceFromFlags(name, session.namespace, o);
  try {
    await session.client.create(ws);
  } catch (err) {
    if (isApiError(err, 409)) throw new UsageError(`workspace ${name} already exists in namespace ${session.namespace}: select it with \`ktf workspace select ${name}\``);
    throw err;
  }
  t.stdout.write(`Created workspace ${name} in namespace ${session.namespace} (engine ${ws.spec.engine.name}).\n`);
  if (o.select !== false) await select(t, session, name, o);
  return 0;
}

export async function workspaceSelect(t: Terminal, name: string, o: KtfOptions): Promise<number> {
  const session = await connect(t, o, t.cwd);
  if (!(await session.client.get(RESOURCES.Workspace, session.namespace, name))) {
    throw new UsageError(`workspace ${name} does not exist in namespace ${session.namespace}: see \`ktf workspace list\``);
  }
  await select(t, session, name, o);
  return 0;
}

async function select(t: Terminal, session: Session, name: string, o: KtfOptions): Promise<void> {
  const current = await readLocalSettings(t.cwd);
  await writeLocalSettings(t.cwd, { ...current, workspace: name, namespace: session.namespace, ...(o.context ? { context: o.context } : {}) });
  t.stdout.write(`Switched to workspace ${name} for ${t.cwd}.\n`);
}

export async function workspaceList(t: Terminal, o: KtfOptions & { allNamespaces?: boolean }): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const selected = (await readLocalSettings(t.cwd)).workspace;
  const list = await session.client.list(RESOURCES.Workspace, o.allNamespaces ? undefined : session.namespace);
  const now = new Date();
  const rows = list.items
    .map((raw) => workspaceSchema.parse(raw))
    .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))
    .map((ws) => [
      ...(o.allNamespaces ? [ws.metadata.namespace ?? ""] : []),
      `${ws.metadata.name === selected && !o.allNamespaces ? "* " : "  "}${ws.metadata.name ?? ""}`,
      ws.spec.engine.name + (ws.spec.engine.version ? ` ${ws.spec.engine.version}` : ""),
      ws.status?.activeRun ?? "",
      String(ws.status?.queue?.length ?? 0),
      ws.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown",
      age(ws.metadata.creationTimestamp, now),
    ]);
  if (!rows.length) {
    note(t, `No workspaces in namespace ${session.namespace}. Create one with: ktf workspace new NAME`);
    return 0;
  }
  t.stdout.write(table([...(o.allNamespaces ? ["NAMESPACE"] : []), "  NAME", "ENGINE", "ACTIVE RUN", "QUEUED", "READY", "AGE"], rows));
  return 0;
}

function describeVariable(v: Variable | { name: string; value?: string; valueFrom?: Variable["valueFrom"]; sensitive: boolean }): string {
  const from = v.valueFrom?.secretKeyRef
    ? `from secret ${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`
    : v.valueFrom?.configMapKeyRef
      ? `from configmap ${v.valueFrom.configMapKeyRef.name}/${v.valueFrom.configMapKeyRef.key}`
      : v.sensitive
        ? "(sensitive)"
        : JSON.stringify(v.value ?? "");
  return `  ${v.name} = ${from}\n`;
}

export async function workspaceShow(t: Terminal, name: string | undefined, o: KtfOptions): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const wsName = name ?? (await readLocalSettings(t.cwd)).workspace;
  if (!wsName) throw new UsageError("which workspace? pass its name or select one with `ktf workspace select NAME`");
  const raw = await session.client.get(RESOURCES.Workspace, session.namespace, wsName);
  if (!raw) throw new UsageError(`workspace ${wsName} does not exist in namespace ${session.namespace}`);
  const ws = workspaceSchema.parse(raw);
  const s = ws.status ?? {};
  const out: string[] = [
    `Workspace:   ${wsName}\n`,
    `Namespace:   ${session.namespace}\n`,
    `Engine:      ${ws.spec.engine.name}${ws.spec.engine.version ? ` ${ws.spec.engine.version}` : ""}\n`,
    `Runs as:     ${s.serviceAccountName ?? ws.spec.serviceAccountName ?? "(not reconciled yet)"}\n`,
    `Active run:  ${s.activeRun ?? "none"}\n`,
    `Queue:       ${s.queue?.length ? s.queue.join(", ") : "empty"}\n`,
    `Privileged:  ${ws.spec.privilegedCommands.join(", ")}\n`,
    `State:       ${s.stateSerial === undefined ? "none yet" : `serial ${s.stateSerial}, ${s.stateVersions?.length ?? 0} versions kept`}\n`,
    `Backup:      ${backupLine(ws)}\n`,
  ];
  if (ws.spec.variables.length) out.push("Variables:\n", ...ws.spec.variables.map(describeVariable));
  if (ws.spec.env.length) out.push("Environment:\n", ...ws.spec.env.map(describeVariable));
  if (s.lastRuns && Object.keys(s.lastRuns).length) {
    out.push("Last runs:\n", ...Object.entries(s.lastRuns).map(([cmd, run]) => `  ${cmd}: ${run}\n`));
  }
  if (s.outputs?.length) out.push("Outputs:\n", ...s.outputs.map((op) => `  ${op.name} = ${op.value}\n`));
  t.stdout.write(out.join(""));
  return 0;
}

export async function workspaceDelete(t: Terminal, name: string, o: KtfOptions & { force?: boolean }): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const raw = await session.client.get(RESOURCES.Workspace, session.namespace, name);
  if (!raw) throw new UsageError(`workspace ${name} does not exist in namespace ${session.namespace}`);
  const ws = workspaceSchema.parse(raw);
  if (ws.status?.activeRun && !o.force) {
    throw new UsageError(`workspace ${name} has an active run (${ws.status.activeRun}): wait for it or cancel it, or pass --force`);
  }
  await session.client.delete(RESOURCES.Workspace, session.namespace, name, { propagationPolicy: "Background" });
  t.stdout.write(`Deleted workspace ${name}; its runs and pods go with it. Its state Secret tfstate-default-${name} is kept.\n`);
  return 0;
}
