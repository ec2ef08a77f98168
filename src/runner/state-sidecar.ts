import { once } from "node:events";
import { chunkObjects } from "../archive/chunks.js";
import { API_VERSION, RUN } from "../api/group.js";
import { parseOrThrow } from "../api/validate.js";
import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import { createStateBackend, listen } from "../state/http-backend.js";
import { StateLock } from "../state/state-lock.js";
import { StateStore } from "../state/state-store.js";
import { ENV, STATE_PORT, runnerJobSchema } from "./contract.js";

export interface StateSidecarOptions {
  env: NodeJS.ProcessEnv;
  client: KubeClient;
  log: Logger;
  port?: number;
  /** Resolves when the pod is stopping (SIGTERM once the engine's container has ended). */
  stopped?: Promise<unknown>;
}

/**
 * `ktf state-server`: the run pod's sidecar. It alone holds the run's Kubernetes
 * credentials, and serves the engine the workspace's state and lock, and a place to leave
 * the saved plan.
 */
export async function runStateSidecar(o: StateSidecarOptions): Promise<number> {
  const job = parseOrThrow(runnerJobSchema, JSON.parse(o.env[ENV.job] ?? "null"), `${ENV.job} environment variable`);
  const loc = { namespace: job.namespace, suffix: job.stateSecretSuffix };
  const savePlanAs = job.savePlanAs;
  const savePlan = savePlanAs
    ? async (bytes: Buffer) => {
        const owner = { apiVersion: API_VERSION, kind: RUN.kind, name: job.run, uid: job.runUid };
        const secrets = chunkObjects("Secret", { namespace: job.namespace, name: savePlanAs, bytes, owner, labels: { "ktf.dev/plan-of": job.run } });
        for (const secret of secrets) await o.client.create(secret);
        o.log.info({ secret: savePlanAs, chunks: secrets.length, size: bytes.length }, "Saved the plan");
        return { chunks: secrets.length };
      }
    : undefined;
  const server = createStateBackend({ store: new StateStore(o.client, loc), lock: new StateLock(o.client, loc, job.run), log: o.log, savePlan });
  const port = await listen(server, o.port ?? STATE_PORT);
  o.log.info({ port, namespace: job.namespace, workspace: job.workspace }, "Serving the workspace's state");
  await (o.stopped ?? once(process, "SIGTERM"));
  server.close();
  server.closeAllConnections();
  return 0;
}
