import { stateDigest, stateHeader } from "../state/state-file.js";
import type { StateVersion } from "../state/state-versions.js";
import { backupFolder, backupKey, describeTarget, serialOfKey, type BackupTarget } from "./backup-target.js";
import type { ObjectStore } from "./object-store.js";

/** One place state versions are copied to. */
export interface BackupStore {
  target: BackupTarget;
  store: ObjectStore;
}

/** A state version's copy in an object store. */
export interface BackupCopy {
  serial: number;
  key: string;
}

/**
 * Copies state versions to S3 and GCS and reads them back: the face of src/backup/. One
 * object per version, `<prefix>/<namespace>/<workspace>/<serial>.tfstate`, the state as the
 * engine wrote it (readable by any tool), with its lineage, digest, run and user as metadata.
 */
export class Backups {
  constructor(readonly stores: readonly BackupStore[]) {}

  static where(store: BackupStore): string {
    return describeTarget(store.target);
  }

  async copy(to: BackupStore, namespace: string, workspace: string, version: StateVersion, state: Buffer): Promise<BackupCopy> {
    const key = backupKey(to.target, namespace, workspace, version.serial);
    await to.store.put(key, state, {
      lineage: version.lineage,
      digest: version.digest,
      ...(version.run ? { run: version.run } : {}),
      ...(version.user ? { user: version.user } : {}),
      written: version.written,
    });
    return { serial: version.serial, key };
  }

  /** A store's copies of a workspace's versions, newest first. */
  async copies(from: BackupStore, namespace: string, workspace: string): Promise<BackupCopy[]> {
    const keys = await from.store.list(backupFolder(from.target, namespace, workspace));
    return keys
      .flatMap((key) => {
        const serial = serialOfKey(key);
        return serial === undefined ? [] : [{ serial, key }];
      })
      .sort((a, b) => b.serial - a.serial);
  }

  /**
   * A copy's state, checked to be a state file: the one with that serial, else the newest,
   * from whichever store has it (the first store first).
   */
  async fetch(namespace: string, workspace: string, serial?: number): Promise<{ serial: number; state: Buffer; digest: string; where: string } | undefined> {
    let best: { from: BackupStore; copy: BackupCopy } | undefined;
    for (const from of this.stores) {
      const copies = await this.copies(from, namespace, workspace);
      const copy = serial === undefined ? copies[0] : copies.find((c) => c.serial === serial);
      if (copy && (!best || copy.serial > best.copy.serial)) best = { from, copy };
    }
    if (!best) return undefined;
    const state = await best.from.store.get(best.copy.key);
    stateHeader(state);
    return { serial: best.copy.serial, state, digest: stateDigest(state), where: Backups.where(best.from) };
  }

  get where(): string {
    return this.stores.map((s) => Backups.where(s)).join(", ");
  }
}
