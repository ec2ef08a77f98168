import { ANNOTATIONS, API_VERSION, LABELS, RUN } from "../api/group.js";
import { labelValue } from "../api/names.js";
import { runSchema, type ArchiveRef, type Run, type RunSpec } from "../api/run.js";
import { archiveSecrets, chunkCount } from "../archive/chunks.js";
import type { PackedConfiguration } from "../archive/pack.js";
import type { KubeClient } from "../kube/client.js";
import { ownerReference } from "../kube/owner.js";
import { RESOURCES } from "../kube/resources.js";
import { reusableArchive } from "./archive-reuse.js";

export interface NewRun {
  namespace: string;
  name: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  /** The spec but its archive, which comes from `configuration`. */
  spec: Omit<Partial<RunSpec>, "archive"> & Pick<RunSpec, "workspace" | "command">;
  configuration?: PackedConfiguration;
}

/**
 * Creates the Run, then uploads its configuration as Secrets it owns: if the upload fails,
 * the run is deleted and takes them along, so nothing is left half-created. A configuration
 * an earlier run of the workspace uploaded is not uploaded again: the run names that
 * archive, and the operator makes the run an owner of its chunks too (see reusableArchive).
 * The CLI and the operator (runs of a module workspace) create runs this one way.
 */
export async function createRunWithArchive(client: KubeClient, r: NewRun): Promise<Run> {
  const c = r.configuration;
  const reused = c ? await reusableArchive(client, r.namespace, r.spec.workspace, c) : undefined;
  const archive: ArchiveRef | undefined = reused?.archive ?? (c && { name: `${r.name}-cfg`, digest: c.digest, size: c.size, chunks: chunkCount(c.size), path: c.path });
  const annotations = { ...r.annotations, ...(reused ? { [ANNOTATIONS.archiveFrom]: reused.run } : {}) };
  const created = await client.create({
    apiVersion: API_VERSION,
    kind: RUN.kind,
    metadata: {
      name: r.name,
      namespace: r.namespace,
      labels: { ...r.labels, [LABELS.workspace]: labelValue(r.spec.workspace) },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: { ...r.spec, ...(archive ? { archive } : {}) },
  });
  const run = runSchema.parse(created);
  if (!archive || !c || reused) return run;
  try {
    const secrets = archiveSecrets({ namespace: r.namespace, name: archive.name, bytes: c.bytes, owner: ownerReference(run), labels: { [LABELS.run]: labelValue(r.name) } });
    for (const secret of secrets) await client.create(secret);
  } catch (err) {
    await client.delete(RESOURCES.Run, r.namespace, r.name).catch(() => undefined);
    throw err;
  }
  return run;
}
