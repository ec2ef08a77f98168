import { CONDITION, REASON } from "../api/conditions.js";
import type { Workspace, WorkspaceStatus } from "../api/workspace.js";
import { Backups } from "../backup/backups.js";
import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { listStateVersions } from "../state/state-history.js";
import { StateLock } from "../state/state-lock.js";
import { readStoredState, type CurrentState, type StateStore } from "../state/state-store.js";
import type { StateVersion } from "../state/state-versions.js";
import type { EventSink } from "./controllers/types.js";
import type { OperatorMetrics } from "./runtime/metrics.js";
import { setCondition } from "./status.js";

export interface StateBackupOptions {
  client: KubeClient;
  backups: Backups;
  events: EventSink;
  log: Logger;
  now: () => Date;
  metrics?: OperatorMetrics;
}

/** What a backup step changes in the workspace's status, and when to try again. */
export interface BackupStep {
  status: (s: WorkspaceStatus) => void;
  requeueAfter?: number;
}

const MAX_BACKOFF_MS = 300_000;

/**
 * A workspace that has no state yet starts from its newest backup (etok's restore), once:
 * the state is written as a version like any other, under the state lock.
 */
export async function restoreFromBackup(o: StateBackupOptions, ws: Workspace, store: StateStore): Promise<BackupStep> {
  const ns = ws.metadata.namespace ?? "";
  const name = ws.metadata.name ?? "";
  const found = await o.backups.fetch(ns, name);
  if (!found) return { status: (s) => (s.backup = { ...s.backup, restoreChecked: true }) };
  const lock = new StateLock(o.client, { namespace: ns, suffix: name }, `restore-${ws.metadata.uid ?? ""}`);
  const id = `ktf-restore-${ws.metadata.uid ?? ""}`;
  const locked = await lock.lock({ ID: id, Operation: "OperationTypeRestore", Who: "ktf-operator" });
  // A run holds the state: look again once it is done.
  if (!locked.ok) return { status: () => undefined, requeueAfter: 5000 };
  try {
    if (!(await store.current())) await store.write(found.state, { user: "ktf-operator", run: `restore-from-backup-${found.serial}` }, o.now());
  } finally {
    await lock.unlock(id);
  }
  o.events.normal(ws, "Restored", `Restored the state from its backup (serial ${found.serial}) in ${found.where}`);
  o.log.info({ namespace: ns, name, serial: found.serial }, "Restored the state from its backup");
  return { status: (s) => (s.backup = { ...s.backup, restoreChecked: true, restoredSerial: found.serial }) };
}

type StoreStatus = NonNullable<NonNullable<WorkspaceStatus["backup"]>["stores"]>[number];

/**
 * Copies the state versions written since the last backup to each store, oldest first. A
 * failure is a condition, an event and a metric, and is retried with backoff; it never
 * holds up a run.
 */
export async function backUpVersions(o: StateBackupOptions, ws: Workspace, current: CurrentState | undefined, kept: StateVersion[] | undefined): Promise<BackupStep> {
  const now = o.now();
  if (!ws.spec.backup) {
    return { status: (s) => (s.conditions = setCondition(s.conditions, { type: CONDITION.BackedUp, status: "False", reason: REASON.BackupDisabled, message: "spec.backup is false" }, now)) };
  }
  if (!current?.version) return { status: () => undefined };
  const ns = ws.metadata.namespace ?? "";
  const name = ws.metadata.name ?? "";
  const before = ws.status?.backup?.stores ?? [];
  const behind = o.backups.stores.filter((store) => (before.find((b) => b.store === Backups.where(store))?.serial ?? -1) < (current.version?.serial ?? -1));
  if (!behind.length) return { status: () => undefined };
  const versions = kept ?? (await listStateVersions(o.client, ns, name));
  const states = new Map<string, Buffer>();
  const results: StoreStatus[] = [];
  const problems: string[] = [];
  for (const store of o.backups.stores) {
    const where = Backups.where(store);
    const was = before.find((b) => b.store === where) ?? { store: where };
    if (!behind.includes(store)) {
      results.push(was);
      continue;
    }
    let serial = was.serial ?? -1;
    try {
      for (const version of versions.filter((v) => v.serial > serial).sort((a, b) => a.serial - b.serial)) {
        const state = states.get(version.name) ?? (await readStoredState(o.client, ns, version));
        states.set(version.name, state);
        await o.backups.copy(store, ns, name, version, state);
        o.metrics?.backups.inc({ result: "copied" });
        serial = version.serial;
      }
      results.push({ store: where, serial, time: now.toISOString(), failures: 0 });
    } catch (err) {
      o.metrics?.backups.inc({ result: "failed" });
      problems.push(`copying to ${where} failed: ${errorMessage(err)}`);
      results.push({ ...was, ...(serial >= 0 ? { serial } : {}), failures: (was.failures ?? 0) + 1 });
      o.log.warn({ namespace: ns, name, store: where, err: errorMessage(err) }, "State backup failed");
    }
  }
  const message = problems.length ? problems.join("; ").slice(0, 1000) : results.map((r) => `serial ${r.serial ?? "none"} is in ${r.store}`).join("; ");
  const condition = ws.status?.conditions?.find((c) => c.type === CONDITION.BackedUp);
  if (problems.length && condition?.message !== message) o.events.warning(ws, REASON.BackupFailed, message);
  if (!problems.length) o.log.info({ namespace: ns, name, serial: current.version.serial }, "Backed up the state");
  const failures = Math.max(0, ...results.map((r) => r.failures ?? 0));
  return {
    status: (s) => {
      s.backup = { ...s.backup, stores: results };
      s.conditions = setCondition(
        s.conditions,
        problems.length ? { type: CONDITION.BackedUp, status: "False", reason: REASON.BackupFailed, message } : { type: CONDITION.BackedUp, status: "True", reason: REASON.BackedUp, message },
        now,
      );
    },
    ...(problems.length ? { requeueAfter: Math.min(MAX_BACKOFF_MS, 1000 * 2 ** failures) } : {}),
  };
}
