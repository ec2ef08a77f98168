import { KTF_STATE_COMMANDS, subcommandOf } from "../api/commands.js";
import type { Run } from "../api/run.js";
import type { Backups } from "../backup/backups.js";
import type { KubeClient } from "../kube/client.js";
import { ownerReference } from "../kube/owner.js";
import { erroredStateOf, listStateVersions } from "../state/state-history.js";
import { StateStore } from "../state/state-store.js";
import { STATE_COMPONENT, restoredStateName, type StoredStateRef } from "../state/state-versions.js";
import type { RunPodInput } from "./builders/run-pod.js";

export interface StateInputOptions {
  client: KubeClient;
  now: () => Date;
  /** The backup store `ktf state restore` fetches from, when the installation has one. */
  backups?: Backups;
}

type Inputs = Pick<RunPodInput, "state" | "push">;

/**
 * The stored states a run's pod mounts: the current version when it is chunked (the state
 * sidecar may read no Secret but its pointer), and what `state rollback`, `recover` or
 * `restore` pushes back. A string says why the run cannot start.
 */
export async function stateInputs(o: StateInputOptions, run: Run, user: string | undefined): Promise<Inputs | string> {
  const ns = run.metadata.namespace ?? "";
  const workspace = run.spec.workspace;
  const current = await new StateStore(o.client, { namespace: ns, suffix: workspace }).current();
  const state = current?.version && current.version.chunks > 1 ? current.version : undefined;
  const sub = run.spec.command === "state" ? subcommandOf(run.spec.args) : undefined;
  if (!sub || !KTF_STATE_COMMANDS.has(sub)) return state ? { state } : {};
  const push = await pushSource(o, run, sub, user);
  return typeof push === "string" ? push : { ...(state ? { state } : {}), push };
}

async function pushSource(o: StateInputOptions, run: Run, sub: string, user: string | undefined): Promise<Inputs["push"] | string> {
  const ns = run.metadata.namespace ?? "";
  const workspace = run.spec.workspace;
  const target = run.spec.args.filter((a) => !a.startsWith("-"))[1] ?? "";
  if (sub === "rollback") {
    const serial = Number(target);
    const version = Number.isInteger(serial) ? (await listStateVersions(o.client, ns, workspace)).find((v) => v.serial === serial) : undefined;
    if (!version) return `workspace ${workspace} has no state version with serial ${target || "(none given)"}; ktf state versions lists them`;
    return { ...version, newSerial: true };
  }
  if (sub === "restore") return restoreSource(o, run, user);
  const errored = target ? await erroredStateOf(o.client, ns, workspace, target) : undefined;
  if (!errored) return `run ${target || "(none given)"} left no state to recover in workspace ${workspace}`;
  return { ...errored, newSerial: false };
}

/** `state restore [--serial N]`: the backup, fetched and kept beside the versions (owned by the run) for the run to push. */
async function restoreSource(o: StateInputOptions, run: Run, user: string | undefined): Promise<(StoredStateRef & { newSerial: boolean }) | string> {
  const ns = run.metadata.namespace ?? "";
  const workspace = run.spec.workspace;
  if (!o.backups) return "this installation has no backup store to restore from (ktf install --backup)";
  const wanted = restoreSerial(run.spec.args);
  if (wanted === null) return "state restore takes --serial N, a whole number";
  const found = await o.backups.fetch(ns, workspace, wanted);
  if (!found) return `${o.backups.where} has no backup${wanted === undefined ? "" : ` with serial ${wanted}`} of workspace ${workspace}`;
  const name = run.metadata.name ?? "";
  const kept = await new StateStore(o.client, { namespace: ns, suffix: workspace }).keep(
    STATE_COMPONENT.restore,
    restoredStateName(workspace, name),
    found.state,
    { run: name, ...(user ? { user } : {}) },
    o.now(),
    ownerReference(run),
  );
  return { ...kept, newSerial: true };
}

/** The serial `state restore` asks for: undefined for the newest, null when it is not a number. */
function restoreSerial(args: readonly string[]): number | undefined | null {
  const i = args.findIndex((a) => a === "--serial" || a === "-serial" || a.startsWith("--serial=") || a.startsWith("-serial="));
  const text = i < 0 ? args.filter((a) => !a.startsWith("-"))[1] : args[i]?.includes("=") ? args[i]?.split("=")[1] : args[i + 1];
  if (text === undefined) return undefined;
  const serial = Number(text);
  return Number.isInteger(serial) && serial >= 0 ? serial : null;
}
