import type { Workspace } from "../../api/workspace.js";
import { age, table } from "../output/table.js";
import { note, type Terminal } from "../output/terminal.js";

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes}B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)}MiB`;
}

/**
 * `ktf state versions`: the workspace's state history, newest first, as the operator
 * keeps it in the workspace's status (reading it needs no access to the state itself).
 */
export function stateVersions(t: Terminal, ws: Workspace): number {
  const versions = ws.status?.stateVersions ?? [];
  if (!versions.length) {
    note(t, `Workspace ${ws.metadata.name} has no state versions yet.`);
    return 0;
  }
  const now = new Date();
  const current = ws.status?.stateSerial;
  const rows = versions.map((v, i) => [
    `${v.serial}${i === 0 && v.serial === current ? " (current)" : ""}`,
    age(v.written, now),
    v.written,
    size(v.size),
    v.run ?? "",
    v.user ?? "",
    v.lineage,
  ]);
  t.stdout.write(table(["SERIAL", "AGE", "WRITTEN", "SIZE", "RUN", "USER", "LINEAGE"], rows));
  return 0;
}
