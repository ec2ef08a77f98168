import type { KubeClient, KubeObject } from "./client.js";
import type { ResourceType } from "./resources.js";

/**
 * Objects as the informers' caches hold them: no API call, but a few milliseconds behind the
 * API, and behind ktf's own writes too. An object missing from a cache may only not have
 * reached it yet; what a reader concludes from its absence, it confirms live.
 */
export interface CachedReader {
  /** A copy of the cached object (callers may change it), or undefined when the cache has none. */
  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): T | undefined;
}

/** Anything that caches objects of one kind by namespace and name: an Informer. */
export interface ObjectCache {
  get(namespace: string | undefined, name: string): KubeObject | undefined;
}

const kindKey = (type: ResourceType) => `${type.group}/${type.plural}`;

/** A reader over informers, one list per kind (an informer per served namespace, or one for all). */
export function informerReader(caches: readonly (readonly [ResourceType, readonly ObjectCache[]])[]): CachedReader {
  const byKind = new Map(caches.map(([type, informers]) => [kindKey(type), informers]));
  return {
    get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): T | undefined {
      const informers = byKind.get(kindKey(type));
      // A kind nobody caches would read as missing for ever: a wiring mistake, said at once.
      if (!informers) throw new Error(`no informer caches ${type.plural}`);
      for (const informer of informers) {
        const found = informer.get(namespace, name);
        if (found) return structuredClone(found) as T;
      }
      return undefined;
    },
  };
}

/** From the cache; from the API when the cache has none (yet), or when there is no cache. */
export async function cachedElseLive<T extends KubeObject>(cache: CachedReader | undefined, client: KubeClient, type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
  return cache?.get<T>(type, namespace, name) ?? (await client.get<T>(type, namespace, name));
}
