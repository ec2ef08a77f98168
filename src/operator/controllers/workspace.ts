import { CONDITION, REASON } from "../../api/conditions.js";
import type { Run } from "../../api/run.js";
import { workspaceSchema, type Output, type Workspace, type WorkspaceStatus } from "../../api/workspace.js";
import { formatIssues } from "../../api/validate.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Logger } from "../../log.js";
import { names } from "../builders/names.js";
import { StateStore } from "../../state/state-store.js";
import { cacheClaim, outputsSecret, runnerRole, runnerRoleBinding, runnerServiceAccount } from "../builders/workspace-objects.js";
import { isFinished, runQueue } from "../run-queue.js";
import { runsOfWorkspace } from "../workspace-runs.js";
import { setCondition, writeStatus } from "../status.js";
import type { EventSink, ObjectKey, ReconcileResult } from "./types.js";

export interface WorkspaceControllerOptions {
  client: KubeClient;
  events: EventSink;
  log: Logger;
  now: () => Date;
}

/** The part of the engine's state file that the workspace shows. */
interface StateFile {
  serial?: number;
  outputs?: Record<string, { value: unknown; type?: unknown; sensitive?: boolean }>;
  resources?: { mode?: string; instances?: unknown[] }[];
}

/**
 * Keeps what a workspace's runs need (ServiceAccount, RBAC for the state, the cache
 * claim) and reports the workspace as it is: its queue and active run, the last run of
 * each command, and its outputs read from the state the engine wrote.
 */
export class WorkspaceController {
  constructor(private readonly o: WorkspaceControllerOptions) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const raw = await this.o.client.get<KubeObject>(RESOURCES.Workspace, key.namespace, key.name);
    if (!raw || raw.metadata.deletionTimestamp) return {};
    const parsed = workspaceSchema.safeParse(raw);
    if (!parsed.success) {
      await this.writeStatus(raw as unknown as Workspace, (s) => {
        s.conditions = setCondition(
          s.conditions,
          { type: CONDITION.Ready, status: "False", reason: REASON.InvalidSpec, message: formatIssues(parsed.error.issues).join("; ") },
          this.o.now(),
        );
      });
      return {};
    }
    const ws = parsed.data;
    const serviceAccountName = await this.ensureRunnerAccess(ws);
    const runs = await runsOfWorkspace(this.o.client, ws);
    const state = await this.readState(ws);
    const outputs = state?.outputs ?? {};
    if (state) await this.o.client.apply(outputsSecret(ws, Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]))), { force: true });

    const { active, waiting } = runQueue(runs);
    await this.writeStatus(ws, (s) => {
      s.serviceAccountName = serviceAccountName;
      setOptional(s, "activeRun", active?.metadata.name);
      s.queue = waiting.map((r) => r.metadata.name ?? "");
      s.lastRuns = lastRunOfEachCommand(runs);
      if (state) {
        s.outputs = visibleOutputs(outputs);
        s.outputsSecret = names.outputsSecret(key.name);
        setOptional(s, "stateSerial", state.serial);
      }
      s.conditions = setCondition(
        s.conditions,
        { type: CONDITION.Ready, status: "True", reason: REASON.Reconciled, observedGeneration: ws.metadata.generation },
        this.o.now(),
      );
    });
    return {};
  }

  /** ServiceAccount (unless the workspace names one), Role, RoleBinding and cache claim. */
  private async ensureRunnerAccess(ws: Workspace): Promise<string> {
    let serviceAccountName = ws.spec.serviceAccountName;
    if (!serviceAccountName) {
      const sa = runnerServiceAccount(ws);
      await this.o.client.apply(sa, { force: true });
      serviceAccountName = sa.metadata.name ?? "";
    }
    await this.o.client.apply(runnerRole(ws), { force: true });
    await this.o.client.apply(runnerRoleBinding(ws, serviceAccountName), { force: true });
    const claim = cacheClaim(ws);
    if (claim && !(await this.o.client.get(RESOURCES.PersistentVolumeClaim, ws.metadata.namespace, claim.metadata.name ?? ""))) {
      // A claim's spec is immutable once bound: create it once, never re-apply it.
      await this.o.client.create(claim);
      this.o.events.normal(ws, "CacheCreated", `Created cache claim ${claim.metadata.name}`);
    }
    return serviceAccountName;
  }

  /** The engine's state for this workspace, or undefined before the first write. */
  private async readState(ws: Workspace): Promise<StateFile | undefined> {
    const store = new StateStore(this.o.client, { namespace: ws.metadata.namespace ?? "", suffix: ws.metadata.name ?? "" });
    try {
      const state = await store.read();
      return state ? (JSON.parse(state.toString("utf8")) as StateFile) : undefined;
    } catch (err) {
      this.o.log.warn({ namespace: ws.metadata.namespace, name: ws.metadata.name, err }, "State secret is not gzipped JSON");
      return undefined;
    }
  }

  private writeStatus(ws: Workspace, change: (s: WorkspaceStatus) => void): Promise<void> {
    return writeStatus(this.o.client, RESOURCES.Workspace, ws, change);
  }
}

function setOptional<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** Outputs that may be shown to anyone who can read the workspace. */
function visibleOutputs(outputs: NonNullable<StateFile["outputs"]>): Output[] {
  return Object.entries(outputs)
    .filter(([, o]) => !o.sensitive)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, o]) => ({ name, type: o.type === undefined ? "" : JSON.stringify(o.type), value: JSON.stringify(o.value) }));
}

function lastRunOfEachCommand(runs: readonly Run[]): Record<string, string> {
  const last: Record<string, Run> = {};
  for (const run of runs.filter(isFinished)) {
    const seen = last[run.spec.command];
    if (!seen || (run.metadata.creationTimestamp ?? "") >= (seen.metadata.creationTimestamp ?? "")) last[run.spec.command] = run;
  }
  return Object.fromEntries(Object.entries(last).map(([command, run]) => [command, run.metadata.name ?? ""]));
}
