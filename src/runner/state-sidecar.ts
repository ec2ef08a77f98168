import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { chunkSecrets } from "../archive/chunks.js";
import { API_VERSION, RUN } from "../api/group.js";
import { parseOrThrow } from "../api/validate.js";
import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { createStateBackend, listen } from "../state/http-backend.js";
import { StateLock } from "../state/state-lock.js";
import { StateReport } from "../state/state-report.js";
import { StateStore, mountedChunkReader } from "../state/state-store.js";
import { ENV, MOUNTS, STATE_PORT, runnerJobSchema } from "./contract.js";
import { labelValue } from "../api/names.js";

export interface StateSidecarOptions {
  env: NodeJS.ProcessEnv;
  client: KubeClient;
  log: Logger;
  port?: number;
  mounts?: Record<keyof typeof MOUNTS, string>;
  /** Where the kubelet reads this container's report from. */
  terminationLog?: string;
  /** Resolves when the pod is stopping (SIGTERM once the engine's container has ended). */
  stopped?: Promise<unknown>;
}

/**
 * `ktf state-server`: the run pod's sidecar. It alone holds the run's Kubernetes
 * credentials, runs as another user than the engine, and serves the engine the workspace's
 * state and lock, and a place to leave the saved plan, as far as the run's command allows.
 * When the pod stops it reports what happened (src/state/state-report.ts).
 */
export async function runStateSidecar(o: StateSidecarOptions): Promise<number> {
  const job = parseOrThrow(runnerJobSchema, JSON.parse(o.env[ENV.job] ?? "null"), `${ENV.job} environment variable`);
  const mounts = o.mounts ?? MOUNTS;
  const loc = { namespace: job.namespace, suffix: job.stateSecretSuffix };
  const savePlanAs = job.savePlanAs;
  const savePlan = savePlanAs
    ? async (bytes: Buffer) => {
        const owner = { apiVersion: API_VERSION, kind: RUN.kind, name: job.run, uid: job.runUid };
        const secrets = chunkSecrets({ namespace: job.namespace, name: savePlanAs, bytes, owner, labels: { "ktf.dev/plan-of": labelValue(job.run) } });
        for (const secret of secrets) await o.client.create(secret);
        o.log.info({ secret: savePlanAs, chunks: secrets.length, size: bytes.length }, "Saved the plan");
        return { chunks: secrets.length };
      }
    : undefined;
  const report = new StateReport();
  const server = createStateBackend({
    store: new StateStore(o.client, loc, mountedChunkReader(mounts.state, job.state)),
    lock: new StateLock(o.client, loc, job.run),
    log: o.log,
    access: job.stateAccess,
    writer: { run: job.run, ...(job.user ? { user: job.user } : {}) },
    report,
    savePlan,
  });
  const port = await listen(server, o.port ?? STATE_PORT);
  o.log.info({ port, namespace: job.namespace, workspace: job.workspace, access: job.stateAccess }, "Serving the workspace's state");
  await (o.stopped ?? once(process, "SIGTERM"));
  server.close();
  server.closeAllConnections();
  await writeFile(o.terminationLog ?? "/dev/termination-log", JSON.stringify(report)).catch((err: unknown) => {
    o.log.error({ err: errorMessage(err) }, "Cannot write the state report");
  });
  return 0;
}
