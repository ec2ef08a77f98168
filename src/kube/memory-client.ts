import { ApiError } from "../errors.js";
import type { DeleteOptions, KubeClient, KubeObject, ListOptions, ObjectList, PatchType } from "./client.js";
import type { CachedReader } from "./cached-reader.js";
import { resourceFor, type ResourceType } from "./resources.js";

/** One request a MemoryKubeClient answered, by the API's verb: "get pods team/app-1". */
export interface RecordedCall {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

const keyOf = (resource: string, namespace: string | undefined, name: string) => `${resource}/${namespace ?? ""}/${name}`;

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
 * An in-memory KubeClient for unit tests of controllers (what controller-runtime's fake
 * client is): objects by resource, namespace and name; a resourceVersion that moves on each
 * write and makes a write carrying an older one fail with 409, as the API server does; and
 * each request recorded in `calls`. Watches, logs and streams are not served.
 */
export class MemoryKubeClient implements KubeClient {
  readonly defaultNamespace = "default";
  readonly calls: RecordedCall[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;

  constructor(objects: readonly KubeObject[] = []) {
    for (const object of objects) this.put(object);
  }

  /** Stores an object as a test sets it up (a uid, a new resourceVersion), recording no request. */
  put<T extends KubeObject>(object: T): T {
    const stored = structuredClone(object);
    const m = stored.metadata;
    m.uid ??= `uid-${m.name ?? ""}`;
    m.generation ??= 1;
    m.resourceVersion = String(++this.version);
    this.objects.set(keyOf(resourceFor(stored.apiVersion, stored.kind).plural, m.namespace, m.name ?? ""), stored);
    return structuredClone(stored);
  }

  /** The stored object, recording no request. */
  peek<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): T | undefined {
    const found = this.objects.get(keyOf(type.plural, namespace, name));
    return found && (structuredClone(found) as T);
  }

  /** Removes an object as if it vanished (deleted by someone else), recording no request. */
  remove(type: ResourceType, namespace: string | undefined, name: string): void {
    this.objects.delete(keyOf(type.plural, namespace, name));
  }

  /** A cache as informers would hold it now: later writes reach it only with the next snapshot. */
  snapshot(): CachedReader & { list(type: ResourceType): KubeObject[] } {
    const copy = new Map([...this.objects].map(([k, v]) => [k, structuredClone(v)]));
    return {
      get: <T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string) => {
        const found = copy.get(keyOf(type.plural, namespace, name));
        return found && (structuredClone(found) as T);
      },
      list: (type) => [...copy].filter(([k]) => k.startsWith(`${type.plural}/`)).map(([, v]) => structuredClone(v)),
    };
  }

  private record(verb: string, resource: string, namespace?: string, name?: string): void {
    this.calls.push({ verb, resource, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}) });
  }

  private existing(resource: string, namespace: string | undefined, name: string): KubeObject {
    const found = this.objects.get(keyOf(resource, namespace, name));
    if (!found) throw new ApiError(404, "NotFound", `${resource} "${name}" not found`);
    return found;
  }

  private checkVersion(current: KubeObject, resourceVersion: unknown): void {
    if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
      throw new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${current.kind} "${current.metadata.name ?? ""}": the object has been modified; please apply your changes to the latest version and try again`);
    }
  }

  private store<T extends KubeObject>(resource: string, object: KubeObject): T {
    object.metadata.resourceVersion = String(++this.version);
    this.objects.set(keyOf(resource, object.metadata.namespace, object.metadata.name ?? ""), object);
    return structuredClone(object) as T;
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    this.record("get", type.plural, namespace, name);
    return Promise.resolve(this.peek<T>(type, namespace, name));
  }

  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<ObjectList<T>> {
    this.record("list", type.plural, namespace);
    const items = [...this.objects]
      .filter(([k, o]) => k.startsWith(`${type.plural}/`) && (namespace === undefined || o.metadata.namespace === namespace) && matches(o.metadata.labels, options.labelSelector))
      .map(([, o]) => structuredClone(o) as T);
    return Promise.resolve({ items, resourceVersion: String(this.version) });
  }

  create<T extends KubeObject>(object: T): Promise<T> {
    const resource = resourceFor(object.apiVersion, object.kind).plural;
    const m = object.metadata;
    this.record("create", resource, m.namespace, m.name);
    if (this.objects.has(keyOf(resource, m.namespace, m.name ?? ""))) return Promise.reject(new ApiError(409, "AlreadyExists", `${resource} "${m.name ?? ""}" already exists`));
    const created = structuredClone(object);
    created.metadata.uid ??= `uid-${m.name ?? ""}`;
    created.metadata.generation ??= 1;
    return Promise.resolve(this.store<T>(resource, created));
  }

  replace<T extends KubeObject>(object: T): Promise<T> {
    const resource = resourceFor(object.apiVersion, object.kind).plural;
    const m = object.metadata;
    this.record("update", resource, m.namespace, m.name);
    return settle(() => {
      const current = this.existing(resource, m.namespace, m.name ?? "");
      this.checkVersion(current, m.resourceVersion);
      return this.store<T>(resource, structuredClone(object));
    });
  }

  apply<T extends KubeObject>(object: T): Promise<T> {
    const resource = resourceFor(object.apiVersion, object.kind).plural;
    const m = object.metadata;
    this.record("patch", resource, m.namespace, m.name);
    const current = this.objects.get(keyOf(resource, m.namespace, m.name ?? ""));
    const merged = applyMergePatch(current ?? {}, object) as KubeObject;
    merged.metadata.uid ??= `uid-${m.name ?? ""}`;
    return Promise.resolve(this.store<T>(resource, merged));
  }

  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, patchType: PatchType = "merge"): Promise<T> {
    this.record("patch", type.plural, namespace, name);
    return settle(() => {
      if (patchType !== "merge") throw new Error(`MemoryKubeClient only applies merge patches, not ${patchType}`);
      const current = this.existing(type.plural, namespace, name);
      this.checkVersion(current, (patch as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion);
      return this.store<T>(type.plural, applyMergePatch(current, patch) as KubeObject);
    });
  }

  patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: unknown, options: { resourceVersion?: string } = {}): Promise<T> {
    this.record("patch", `${type.plural}/status`, namespace, name);
    return settle(() => {
      const current = this.existing(type.plural, namespace, name);
      this.checkVersion(current, options.resourceVersion);
      return this.store<T>(type.plural, { ...current, status: applyMergePatch(current.status, status) });
    });
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<boolean> {
    this.record("delete", type.plural, namespace, name);
    const current = this.objects.get(keyOf(type.plural, namespace, name));
    if (!current) return Promise.resolve(false);
    if (options.uid && options.uid !== current.metadata.uid) return Promise.reject(new ApiError(409, "Conflict", `the uid of ${type.plural} "${name}" is not ${options.uid}`));
    this.objects.delete(keyOf(type.plural, namespace, name));
    return Promise.resolve(true);
  }

  /** A SubjectAccessReview (or any review) is allowed. */
  review<T extends KubeObject>(object: T): Promise<T> {
    this.record("create", resourceFor(object.apiVersion, object.kind).plural);
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
