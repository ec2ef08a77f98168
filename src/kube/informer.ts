import { ApiError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { KubeClient, KubeObject, WatchEvent } from "./client.js";
import type { ResourceType } from "./resources.js";
import { sleep } from "../sleep.js";

export interface InformerHandlers<T> {
  /** A new object, or every object again at each resync (then `old` is set). */
  upsert?(object: T, old?: T): void;
  delete?(object: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Cache only the objects' metadata: for objects whose changes only wake someone (a state Secret). */
  metadataOnly?: boolean;
  /** Re-list and deliver every object again this often (also guards against stalled watches). */
  resyncMs?: number;
  /** Ask the server to end each watch after this long; a silent connection is dropped after it plus a margin. */
  watchTimeoutSeconds?: number;
  log: Logger;
  maxBackoffMs?: number;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
}

/**
 * List, then watch from the list's resourceVersion, keeping a cache and telling handlers.
 * A 410 Gone relists at once; any other failure (a dropped connection, an API server
 * restart) relists after a backoff, and deletions missed meanwhile are delivered by
 * comparing the cache with the new list.
 */
export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly stopper = new AbortController();
  private running?: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    private readonly type: ResourceType,
    private readonly options: InformerOptions,
  ) {}

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ""}/${name}`);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Starts the loop; resolves once the first list is in the cache. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.running = this.loop(resolve);
    });
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
  }

  private async loop(synced: () => void): Promise<void> {
    let failures = 0;
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      try {
        const resourceVersion = await this.relist();
        synced();
        failures = 0;
        await this.watchUntilResync(resourceVersion);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && err.isGone) continue;
        const delay = this.backoff(failures++);
        this.options.log.warn({ kind: this.type.kind, err: errorMessage(err), retryInMs: delay }, "Watch failed; listing again");
        await sleep(delay, signal);
      }
    }
  }

  private backoff(failures: number): number {
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, 200 * 2 ** failures);
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private async relist(): Promise<string> {
    const list = await this.client.list<T>(this.type, this.options.namespace, { labelSelector: this.options.labelSelector, ...(this.options.metadataOnly ? { metadataOnly: true } : {}) });
    const seen = new Set<string>();
    for (const item of list.items) {
      const key = keyOf(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, item);
      for (const h of this.handlers) h.upsert?.(item, old);
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      for (const h of this.handlers) h.delete?.(old);
    }
    return list.resourceVersion;
  }

  /** Watches (renewing the watch when the server ends it) until the next resync is due. */
  private async watchUntilResync(fromVersion: string): Promise<void> {
    const resyncAt = Date.now() + (this.options.resyncMs ?? 5 * 60_000);
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 240;
    let resourceVersion = fromVersion;
    while (!this.stopper.signal.aborted && Date.now() < resyncAt) {
      const watch = new AbortController();
      const onStop = () => watch.abort();
      this.stopper.signal.addEventListener("abort", onStop, { once: true });
      // A half-open connection never ends by itself: drop it after the server's deadline.
      const guard = setTimeout(() => watch.abort(), Math.min(timeoutSeconds * 1000 + 15_000, Math.max(0, resyncAt - Date.now())));
      try {
        await this.client.watch<T>(
          this.type,
          this.options.namespace,
          { resourceVersion, timeoutSeconds, labelSelector: this.options.labelSelector, allowWatchBookmarks: true, ...(this.options.metadataOnly ? { metadataOnly: true } : {}) },
          (event) => {
            resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion;
            this.apply(event);
          },
          watch.signal,
        );
      } finally {
        clearTimeout(guard);
        this.stopper.signal.removeEventListener("abort", onStop);
      }
    }
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === "BOOKMARK") return;
    const key = keyOf(event.object);
    if (event.type === "DELETED") {
      this.cache.delete(key);
      for (const h of this.handlers) h.delete?.(event.object);
      return;
    }
    const old = this.cache.get(key);
    this.cache.set(key, event.object);
    for (const h of this.handlers) h.upsert?.(event.object, old);
  }
}
