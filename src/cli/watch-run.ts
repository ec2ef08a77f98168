import { runSchema, type Run } from "../api/run.js";
import { ApiError, ConnectionError, KtfError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { sleep } from "../sleep.js";

/**
 * Watches one run until `done` says so (or the signal aborts) and returns it as it was
 * then. `onChange` sees every version on the way.
 */
export async function watchRun(client: KubeClient, ns: string, name: string, done: (run: Run) => boolean, signal: AbortSignal, onChange?: (run: Run) => void): Promise<Run> {
  for (;;) {
    const raw = await client.get(RESOURCES.Run, ns, name);
    if (!raw) throw new KtfError(`run ${name} was deleted`);
    let run = runSchema.parse(raw);
    onChange?.(run);
    if (done(run) || signal.aborted) return run;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await client.watch(
        RESOURCES.Run,
        ns,
        { fieldSelector: `metadata.name=${name}`, resourceVersion: run.metadata.resourceVersion, timeoutSeconds: 60 },
        (event) => {
          if (event.type === "BOOKMARK") return;
          if (event.type === "DELETED") return stop.abort();
          run = runSchema.parse(event.object);
          onChange?.(run);
          if (done(run)) stop.abort();
        },
        stop.signal,
      );
    } catch (err) {
      // A gone resourceVersion or a dropped watch: read the run again and go on watching.
      if (!(err instanceof ApiError) && !(err instanceof ConnectionError)) throw err;
      await sleep(200, signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (done(run) || signal.aborted) return run;
  }
}
