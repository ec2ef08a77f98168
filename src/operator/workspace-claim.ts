import { isApiError } from "../errors.js";
import { isFinished, runSchema, type Run } from "../api/run.js";
import { fit } from "../api/names.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { ownerReference } from "../kube/owner.js";
import { RESOURCES } from "../kube/resources.js";

type Lease = KubeObject & { spec?: { holderIdentity?: string } };

/** The Lease that says which run holds a workspace: one name per workspace, so taking it is atomic. */
export function claimName(workspace: string): string {
  return fit(`ktf-run-${workspace}`, 253);
}

/**
 * Takes the workspace for `run` (or finds that it already has it): creating the Lease
 * succeeds for one run only, and taking it over from a run that ended is a compare-and-swap
 * on its resourceVersion. Two runs that both believe they are next (created in the same
 * second, before either's pod was recorded) cannot both start. Returns the holder when it
 * is another run.
 */
export async function claimWorkspace(client: KubeClient, run: Run): Promise<{ ok: true } | { ok: false; holder: string }> {
  const ns = run.metadata.namespace ?? "";
  const me = run.metadata.name ?? "";
  const name = claimName(run.spec.workspace);
  const lease = await client.get<Lease>(RESOURCES.Lease, ns, name);
  const holder = lease?.spec?.holderIdentity ?? "";
  if (holder === me) return { ok: true };
  if (holder && (await stillHolds(client, ns, holder))) return { ok: false, holder };
  const desired: Lease = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: {
      ...(lease?.metadata ?? {}),
      name,
      namespace: ns,
      // The claim goes with the run that holds it, if nothing else does.
      ownerReferences: [ownerReference(run)],
    },
    spec: { ...(lease?.spec ?? {}), holderIdentity: me },
  };
  try {
    if (lease) await client.replace(desired);
    else await client.create(desired);
    return { ok: true };
  } catch (err) {
    // Someone else took it between our read and our write.
    if (isApiError(err, 409)) return { ok: false, holder: "another run" };
    throw err;
  }
}

async function stillHolds(client: KubeClient, namespace: string, holder: string): Promise<boolean> {
  const raw = await client.get(RESOURCES.Run, namespace, holder);
  const run = raw ? runSchema.safeParse(raw).data : undefined;
  return Boolean(run && !isFinished(run) && !run.metadata.deletionTimestamp);
}
