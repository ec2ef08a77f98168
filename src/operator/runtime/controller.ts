import { StaleCacheError, TerminalError, errorMessage, isApiError } from "../../errors.js";
import type { KubeObject } from "../../kube/client.js";
import type { Informer } from "../../kube/informer.js";
import type { Logger } from "../../log.js";
import type { ObjectKey, ReconcileResult } from "../controllers/types.js";
import type { OperatorMetrics } from "./metrics.js";
import { WorkQueue } from "./work-queue.js";

/** Which keys a change to an object of a watched kind should wake. */
export interface WatchSource<T extends KubeObject = KubeObject> {
  informer: Informer<T>;
  map: (object: T) => ObjectKey[];
}

export interface ControllerOptions {
  name: string;
  reconcile: (key: ObjectKey) => Promise<ReconcileResult>;
  watches: WatchSource[];
  workers: number;
  log: Logger;
  metrics: OperatorMetrics;
  queue?: WorkQueue;
  /** Whether this replica works on the key now (its shard is held); all keys when unset. */
  handles?: (key: ObjectKey) => boolean;
}

const toKey = (k: ObjectKey) => `${k.namespace}/${k.name}`;
function fromKey(key: string): ObjectKey {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The primary kind maps to its own key. */
export function ownKey(object: KubeObject): ObjectKey[] {
  return [{ namespace: object.metadata.namespace ?? "", name: object.metadata.name ?? "" }];
}

/** A child maps to its controlling owner of the given kind. */
export function ownerKey(kind: string) {
  return (object: KubeObject): ObjectKey[] =>
    (object.metadata.ownerReferences ?? [])
      .filter((r) => r.kind === kind)
      .map((r) => ({ namespace: object.metadata.namespace ?? "", name: r.name }));
}

/**
 * controller-runtime's loop: watch events only enqueue keys; workers take keys and call
 * reconcile, which reads the world itself. Errors retry with backoff, a TerminalError is
 * not retried (the reconcile has recorded it), `requeueAfter` looks again later. A conflict
 * (409: a write from a copy that lagged behind the API, refused) or a StaleCacheError
 * retries with the same backoff, but is no failure.
 */
export class Controller {
  private readonly queue: WorkQueue;
  private workers: Promise<void>[] = [];

  constructor(private readonly o: ControllerOptions) {
    this.queue = o.queue ?? new WorkQueue();
  }

  start(): void {
    for (const watch of this.o.watches) watch.informer.on({ upsert: (o) => this.enqueue(watch, o), delete: (o) => this.enqueue(watch, o) });
    this.resync();
    this.workers = Array.from({ length: this.o.workers }, () => this.work());
  }

  /** Looks at every cached object again: at the start, and when this replica takes more shards. */
  resync(): void {
    for (const watch of this.o.watches) for (const object of watch.informer.list()) this.enqueue(watch, object);
  }

  private enqueue(watch: WatchSource, object: KubeObject): void {
    for (const key of watch.map(object)) if (this.o.handles?.(key) ?? true) this.queue.add(toKey(key));
    this.o.metrics.queueDepth.set({ controller: this.o.name }, this.queue.length);
  }

  /** Stops taking keys and waits for reconciles in flight. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
      this.queue.done(key);
      this.o.metrics.queueDepth.set({ controller: this.o.name }, this.queue.length);
    }
  }

  private async process(key: string): Promise<void> {
    const { namespace, name } = fromKey(key);
    // Queued before this replica gave its shard up: the replica that holds it now works on it.
    if (!(this.o.handles?.({ namespace, name }) ?? true)) {
      this.queue.forget(key);
      return;
    }
    const stopTimer = this.o.metrics.duration.startTimer({ controller: this.o.name });
    try {
      const result = await this.o.reconcile({ namespace, name });
      this.queue.forget(key);
      if (result.requeueAfter) this.queue.addAfter(key, result.requeueAfter);
      this.o.metrics.reconciles.inc({ controller: this.o.name, result: result.requeueAfter ? "requeue" : "success" });
    } catch (err) {
      if (err instanceof TerminalError) {
        this.queue.forget(key);
        this.o.metrics.reconciles.inc({ controller: this.o.name, result: "terminal" });
        this.o.log.warn({ controller: this.o.name, namespace, name, reason: err.reason, err: err.message }, "Reconcile failed for good");
        return;
      }
      this.queue.addRateLimited(key);
      if (isApiError(err, 409) || err instanceof StaleCacheError) {
        this.o.metrics.reconciles.inc({ controller: this.o.name, result: "stale" });
        this.o.log.debug({ controller: this.o.name, namespace, name, err: errorMessage(err) }, "Read a copy older than the object; reconciling again");
        return;
      }
      this.o.metrics.reconciles.inc({ controller: this.o.name, result: "error" });
      this.o.log.warn({ controller: this.o.name, namespace, name, retries: this.queue.retries(key), err: errorMessage(err) }, "Reconcile failed; retrying");
    } finally {
      stopTimer();
    }
  }
}
