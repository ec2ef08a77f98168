import { ApiError } from "../../src/errors.js";
import type { CachedReader } from "../../src/kube/cached-reader.js";
import type { DeleteOptions, KubeClient, KubeObject, ListOptions, ObjectList, PatchType } from "../../src/kube/client.js";
import { resourceFor, type ResourceType } from "../../src/kube/resources.js";

/** One request a MemoryKubeClient answered, by the API's verb: "get pods team/app-1". */
export interface RecordedCall {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

/** A cluster-scoped object has one key whatever namespace a caller passes, as in the API. */
const keyOf = (type: ResourceType, namespace: string | undefined, name: string) => `${type.plural}/${type.namespaced ? (namespace ?? "") : ""}/${name}`;
const typeOf = (object: KubeObject) => resourceFor(object.apiVersion, object.kind);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** RFC 7386: null deletes a field, objects merge field by field, anything else replaces. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

/** Runs `fn`, its throw a rejection: what an API call's failure is. */
const settle = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(fn()));

/** `a=b,c` selectors: equality and existence, what ktf asks for. */
function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const [k = "", v] = term.split("=");
    return v === undefined ? labels?.[k] !== undefined : labels?.[k] === v;
  });
}

/**
 * An in-memory KubeClient for unit tests (what controller-runtime's fake client is): objects
 * by resource, namespace and name; a resourceVersion that moves on each write and makes a
 * write carrying an older one fail with 409, as the API server does; a delete that only marks
 * an object with finalizers; owner references collected on demand; and each request recorded
 * in `calls`. Watches, logs and streams are not served.
 */
export class MemoryKubeClient implements KubeClient {
  readonly defaultNamespace = "default";
  readonly calls: RecordedCall[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;

  constructor(objects: readonly KubeObject[] = []) {
    for (const object of objects) this.put(object);
  }

  /** Stores an object as a test sets it up (a uid, a creationTimestamp, a new resourceVersion), recording no request. */
  put<T extends KubeObject>(object: T): T {
    const stored = structuredClone(object);
    const m = stored.metadata;
    m.uid ??= `uid-${m.name ?? ""}`;
    m.creationTimestamp ??= this.timestamp();
    m.generation ??= 1;
    return this.store<T>(typeOf(stored), stored);
  }

  /** The stored object, recording no request. */
  peek<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): T | undefined {
    const found = this.objects.get(keyOf(type, namespace, name));
    return found && (structuredClone(found) as T);
  }

  /** Every stored object of a type, in any namespace, recording no request. */
  all<T extends KubeObject>(type: ResourceType): T[] {
    return [...this.objects].filter(([k]) => k.startsWith(`${type.plural}/`)).map(([, o]) => structuredClone(o) as T);
  }

  /** Removes an object as if it vanished (deleted by someone else), recording no request. */
  remove(type: ResourceType, namespace: string | undefined, name: string): void {
    this.objects.delete(keyOf(type, namespace, name));
  }

  /** Deletes, until nothing changes, what has owners and none of them left: the garbage collector's background policy, run when a test says. */
  collectGarbage(): void {
    for (let changed = true; changed; ) {
      changed = false;
      const live = new Set([...this.objects.values()].map((o) => o.metadata.uid));
      for (const [key, o] of this.objects) {
        const owners = o.metadata.ownerReferences ?? [];
        if (owners.length && owners.every((r) => !live.has(r.uid))) changed = this.objects.delete(key);
      }
    }
  }

  /** A cache as informers would hold it now: later writes reach it only with the next snapshot. */
  snapshot(): CachedReader & { list(type: ResourceType): KubeObject[] } {
    const copy = new Map([...this.objects].map(([k, v]) => [k, structuredClone(v)]));
    return {
      get: <T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string) => {
        const found = copy.get(keyOf(type, namespace, name));
        return found && (structuredClone(found) as T);
      },
      list: (type) => [...copy].filter(([k]) => k.startsWith(`${type.plural}/`)).map(([, v]) => structuredClone(v)),
    };
  }

  private record(verb: string, resource: string, namespace?: string, name?: string): void {
    this.calls.push({ verb, resource, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}) });
  }

  private existing(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.objects.get(keyOf(type, namespace, name));
    if (!found) throw new ApiError(404, "NotFound", `${type.plural} "${name}" not found`);
    return found;
  }

  private checkVersion(current: KubeObject, resourceVersion: unknown): void {
    if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
      throw new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${current.kind} "${current.metadata.name ?? ""}": the object has been modified; please apply your changes to the latest version and try again`);
    }
  }

  private store<T extends KubeObject>(type: ResourceType, object: KubeObject): T {
    object.metadata.resourceVersion = String(++this.version);
    this.objects.set(keyOf(type, object.metadata.namespace, object.metadata.name ?? ""), object);
    return structuredClone(object) as T;
  }

  /** One second apart, in the order of writes, so that sorting by creationTimestamp is the order objects came in. */
  private timestamp(): string {
    return new Date(Date.UTC(2026, 0, 1) + this.version * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    this.record("get", type.plural, namespace, name);
    return Promise.resolve(this.peek<T>(type, namespace, name));
  }

  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList<T>> {
    this.record("list", type.plural, namespace);
    const items = this.all<T>(type).filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matches(o.metadata.labels, options.labelSelector));
    return Promise.resolve({ items, resourceVersion: String(this.version) });
  }

  create<T extends KubeObject>(object: T): Promise<T> {
    const type = typeOf(object);
    const m = object.metadata;
    this.record("create", type.plural, m.namespace, m.name);
    if (this.objects.has(keyOf(type, m.namespace, m.name ?? ""))) return Promise.reject(new ApiError(409, "AlreadyExists", `${type.plural} "${m.name ?? ""}" already exists`));
    const created = structuredClone(object);
    created.metadata.uid ??= `uid-${m.name ?? ""}`;
    created.metadata.creationTimestamp = this.timestamp();
    created.metadata.generation ??= 1;
    return Promise.resolve(this.store<T>(type, created));
  }

  replace<T extends KubeObject>(object: T): Promise<T> {
    const type = typeOf(object);
    const m = object.metadata;
    this.record("update", type.plural, m.namespace, m.name);
    return settle(() => {
      const current = this.existing(type, m.namespace, m.name ?? "");
      this.checkVersion(current, m.resourceVersion);
      return this.store<T>(type, structuredClone(object));
    });
  }

  apply<T extends KubeObject>(object: T): Promise<T> {
    const type = typeOf(object);
    const m = object.metadata;
    this.record("patch", type.plural, m.namespace, m.name);
    const current = this.objects.get(keyOf(type, m.namespace, m.name ?? ""));
    const merged = applyMergePatch(current ?? {}, object) as KubeObject;
    merged.metadata.uid ??= `uid-${m.name ?? ""}`;
    merged.metadata.creationTimestamp ??= this.timestamp();
    return Promise.resolve(this.store<T>(type, merged));
  }

  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, patchType: PatchType = "merge"): Promise<T> {
    this.record("patch", type.plural, namespace, name);
    return settle(() => {
      if (patchType !== "merge") throw new Error(`MemoryKubeClient only applies merge patches, not ${patchType}`);
      const current = this.existing(type, namespace, name);
      this.checkVersion(current, (patch as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion);
      return this.store<T>(type, applyMergePatch(current, patch) as KubeObject);
    });
  }

  patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: unknown, options: { resourceVersion?: string } = {}): Promise<T> {
    this.record("patch", `${type.plural}/status`, namespace, name);
    return settle(() => {
      const current = this.existing(type, namespace, name);
      this.checkVersion(current, options.resourceVersion);
      return this.store<T>(type, { ...current, status: applyMergePatch(current.status, status) });
    });
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<boolean> {
    this.record("delete", type.plural, namespace, name);
    const current = this.objects.get(keyOf(type, namespace, name));
    if (!current) return Promise.resolve(false);
    if (options.uid && options.uid !== current.metadata.uid) return Promise.reject(new ApiError(409, "Conflict", `the uid of ${type.plural} "${name}" is not ${options.uid}`));
    if (!current.metadata.finalizers?.length) this.objects.delete(keyOf(type, namespace, name));
    // With finalizers left the API server only marks the object. Unlike it, this fake keeps the
    // object when a patch removes the last one: a test that needs it gone calls remove().
    else if (!current.metadata.deletionTimestamp) this.store(type, { ...current, metadata: { ...current.metadata, deletionTimestamp: this.timestamp() } });
    return Promise.resolve(true);
  }

  /** A SubjectAccessReview (or any review) is allowed. */
  review<T extends KubeObject>(object: T): Promise<T> {
    this.record("create", typeOf(object).plural);
    return Promise.resolve({ ...structuredClone(object), status: { allowed: true } });
  }

  watch(type: ResourceType): Promise<void> {
    this.record("watch", type.plural);
    return Promise.reject(new Error("MemoryKubeClient does not serve watches"));
  }

  logs(namespace: string, pod: string): Promise<NodeJS.ReadableStream> {
    this.record("get", "pods/log", namespace, pod);
    return Promise.reject(new Error("MemoryKubeClient does not serve logs"));
  }

  websocket(): Promise<import("ws").WebSocket> {
    return Promise.reject(new Error("MemoryKubeClient does not serve streams"));
  }
}
