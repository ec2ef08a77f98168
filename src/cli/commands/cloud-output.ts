import type { Workspace } from "../../api/workspace.js";
import { UsageError, isApiError } from "../../errors.js";
import type { KubeObject } from "../../kube/client.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Session } from "../session.js";
import type { Terminal } from "../output/terminal.js";

interface Shown {
  value: unknown;
  type: unknown;
  sensitive: boolean;
}

/**
 * `ktf output` of a TFC workspace: its state is TFC's, and the operator keeps its outputs in the
 * workspace (non-sensitive ones in status, all of them in the outputs Secret). No run: what the
 * caller may read decides what is shown, as `get` on that Secret.
 */
export async function cloudOutput(t: Terminal, session: Session, ws: Workspace, args: readonly string[]): Promise<number> {
  const json = args.includes("-json") || args.includes("--json");
  const raw = args.includes("-raw") || args.includes("--raw");
  const names = args.filter((a) => !a.startsWith("-"));
  const unknownFlag = args.find((a) => a.startsWith("-") && !["-json", "--json", "-raw", "--raw", "-no-color", "--no-color"].includes(a));
  if (unknownFlag) throw new UsageError(`output: ${unknownFlag} is not taken for a TFC workspace; it takes -json, -raw and an output's name`);
  if (names.length > 1) throw new UsageError("output: expected at most one output name");
  const outputs = await readOutputs(session, ws);
  const name = names[0];
  if (name !== undefined) {
    const one = outputs.get(name);
    if (!one) throw new UsageError(`output ${name} is not in workspace ${ws.metadata.name}'s state (TFC): it has ${[...outputs.keys()].join(", ") || "no outputs"}`);
    if (one.value === undefined) throw new UsageError(`output ${name} is sensitive: reading it needs get on Secret ${ws.status?.outputsSecret} in namespace ${session.namespace}`);
    t.stdout.write(raw && typeof one.value === "string" ? one.value : `${JSON.stringify(one.value, null, json ? 2 : undefined)}\n`);
    return 0;
  }
  if (json) {
    const all = Object.fromEntries([...outputs].map(([k, o]) => [k, { sensitive: o.sensitive, type: o.type, ...(o.value === undefined ? {} : { value: o.value }) }]));
    t.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  for (const [k, o] of outputs) t.stdout.write(`${k} = ${o.sensitive ? "<sensitive>" : JSON.stringify(o.value)}\n`);
  return 0;
}

/** Every output, by name: sensitive ones with their value when the caller may read the Secret. */
async function readOutputs(session: Session, ws: Workspace): Promise<Map<string, Shown>> {
  const shown = new Map<string, Shown>();
  for (const o of ws.status?.outputs ?? []) shown.set(o.name, { value: JSON.parse(o.value) as unknown, type: o.type ? (JSON.parse(o.type) as unknown) : undefined, sensitive: false });
  let secret: (KubeObject & { data?: Record<string, string> }) | undefined;
  try {
    secret = ws.status?.outputsSecret ? await session.client.get(RESOURCES.Secret, session.namespace, ws.status.outputsSecret) : undefined;
  } catch (err) {
    if (!isApiError(err, 403)) throw err;
  }
  for (const [k, encoded] of Object.entries(secret?.data ?? {})) {
    const value = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as unknown;
    const known = shown.get(k);
    shown.set(k, known ? { ...known, value } : { value, type: undefined, sensitive: true });
  }
  return new Map([...shown].sort(([a], [b]) => a.localeCompare(b)));
}
