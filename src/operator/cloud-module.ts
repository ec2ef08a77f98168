import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ANNOTATIONS } from "../api/group.js";
import { fit } from "../api/names.js";
import { runSchema } from "../api/run.js";
import type { Workspace } from "../api/workspace.js";
import { packConfiguration } from "../archive/pack.js";
import { moduleConfiguration } from "../cloud/module-config.js";
import { isApiError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { createRunWithArchive } from "../runs/create-run.js";
import type { EventSink } from "./controllers/types.js";
import { isSecretSource } from "./cloud-values.js";

export interface ModuleRunOptions {
  client: KubeClient;
  events: EventSink;
  /** The annotations that name the operator as a run's creator (admission checks them). */
  creator: () => Promise<Record<string, string>>;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * A module workspace's run, as terraform-k8s started them: when the generated configuration,
 * a variable's value (seen by the HMACs the sync keeps), applyMethod or the run-requested
 * annotation changes, a Run of the module is created (apply when applyMethod is auto, else a
 * plan kept for `ktf apply -plan=RUN`); the previous saved plan, never applied, is canceled,
 * which discards its TFC run so that it holds no queue. Returns the status to keep.
 */
export async function ensureModuleRun(o: ModuleRunOptions, ws: Workspace, variableHashes: Record<string, string>): Promise<{ digest: string; run: string } | undefined> {
  const module = ws.spec.module;
  const cloud = ws.spec.cloud;
  if (!module || !cloud) return undefined;
  const inputs = ws.spec.variables.map((v) => ({ name: v.name, sensitive: isSecretSource(v) }));
  const text = moduleConfiguration(module, inputs);
  const hashes = Object.entries(variableHashes).sort(([a], [b]) => a.localeCompare(b));
  const digest = `sha256:${sha256(JSON.stringify([text, hashes, cloud.applyMethod, ws.metadata.annotations?.[ANNOTATIONS.runRequested] ?? ""]))}`;
  const known = ws.status?.cloud?.module;
  if (known?.digest === digest) return known;

  const ns = ws.metadata.namespace ?? "";
  const workspace = ws.metadata.name ?? "";
  // Named by what it runs and what ran before: a reconcile that crashed after creating it finds it.
  const name = `${fit(`${workspace}-module`, 240)}-${sha256(`${digest} ${known?.run ?? ""}`).slice(0, 10)}`;
  if (!(await o.client.get(RESOURCES.Run, ns, name))) {
    const auto = cloud.applyMethod === "auto";
    const dir = await mkdtemp(join(tmpdir(), "ktf-module-"));
    try {
      await writeFile(join(dir, "main.tf"), text);
      const configuration = await packConfiguration(dir);
      await createRunWithArchive(o.client, {
        namespace: ns,
        name,
        annotations: await o.creator(),
        spec: { workspace, command: auto ? "apply" : "plan", args: [], savePlan: !auto },
        configuration,
      });
      o.events.normal(ws, "ModuleRunStarted", `Started run ${name} (${auto ? "apply" : "plan, kept for ktf apply -plan"}) of module ${module.source}${module.version ? ` ${module.version}` : ""}`);
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (known?.run) await cancelUnappliedPlan(o.client, ns, known.run);
  return { digest, run: name };
}

/** The previous module run, if it is a saved plan: canceled, so its TFC run is discarded (see the Run controller). */
async function cancelUnappliedPlan(client: KubeClient, ns: string, name: string): Promise<void> {
  const raw = await client.get(RESOURCES.Run, ns, name);
  const run = raw ? runSchema.safeParse(raw).data : undefined;
  if (!run?.spec.savePlan || run.spec.cancel) return;
  await client.patch(RESOURCES.Run, ns, name, { spec: { cancel: true } });
}
