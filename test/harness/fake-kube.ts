/**
 * An in-memory KubeClient for unit tests of what code reads and writes (controller-runtime's
 * fake client, in small): get, list by label equality, create, merge patches with the
 * resourceVersion precondition, delete, and a garbage collector run on demand.
 */
import { ApiError } from "../../src/errors.js";
import type { KubeClient, KubeObject, ListOptions, ObjectList } from "../../src/kube/client.js";
import { RESOURCES, apiVersionOf, type ResourceType } from "../../src/kube/resources.js";

export interface Write {
  verb: "create" | "patch" | "patchStatus" | "delete";
  kind: string;
  name: string;
}

export class FakeKube {
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;
  /** Every write, in order. */
  readonly writes: Write[] = [];
  readonly client: KubeClient;

  constructor(readonly defaultNamespace = "default") {
    const c: Partial<KubeClient> = {
      defaultNamespace,
      get: <T extends KubeObject>(type: ResourceType, ns: string | undefined, name: string) => Promise.resolve(this.find(type, ns, name) as T | undefined),
      list: <T extends KubeObject>(type: ResourceType, ns: string | undefined, options?: ListOptions) => Promise.resolve(this.list(type, ns, options) as ObjectList<T>),
      create: <T extends KubeObject>(object: T) => Promise.resolve(this.create(object) as T),
      patch: <T extends KubeObject>(type: ResourceType, ns: string | undefined, name: string, patch: unknown) => Promise.resolve(this.patch(type, ns, name, patch, "patch") as T),
      patchStatus: <T extends KubeObject>(type: ResourceType, ns: string | undefined, name: string, status: unknown) => Promise.resolve(this.patch(type, ns, name, { status }, "patchStatus") as T),
      delete: (type: ResourceType, ns: string | undefined, name: string) => Promise.resolve(this.delete(type, ns, name)),
    };
    this.client = c as KubeClient;
  }

  /** Puts objects in as they are (no write recorded), giving each a uid, a resourceVersion and a creationTimestamp unless it has them. */
  seed(...objects: KubeObject[]): void {
    for (const o of objects) this.store(typeOf(o), { ...structuredClone(o), metadata: { uid: `uid-${o.metadata.name}`, creationTimestamp: this.timestamp(), ...o.metadata, resourceVersion: this.nextVersion() } });
  }

  all(type: ResourceType): KubeObject[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${type.plural}/`)).map(([, o]) => structuredClone(o));
  }

  /** Deletes, until nothing changes, what has owners and none of them left (the background policy). */
  collectGarbage(): void {
    const uids = () => new Set([...this.objects.values()].map((o) => o.metadata.uid));
    for (let changed = true; changed; ) {
      changed = false;
      const live = uids();
      for (const [key, o] of this.objects) {
        const owners = o.metadata.ownerReferences ?? [];
        if (owners.length && owners.every((r) => !live.has(r.uid))) changed = this.objects.delete(key);
      }
    }
  }

  private find(type: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(key(type, ns, name));
    return o && structuredClone(o);
  }

  private list(type: ResourceType, ns: string | undefined, options?: ListOptions): ObjectList<KubeObject> {
    const wanted = (options?.labelSelector ?? "").split(",").filter(Boolean).map((term) => term.split("=") as [string, string]);
    const items = this.all(type).filter((o) => (ns === undefined || o.metadata.namespace === ns) && wanted.every(([k, v]) => o.metadata.labels?.[k] === v));
    return { items, resourceVersion: String(this.version) };
  }

  private create(object: KubeObject): KubeObject {
    const type = typeOf(object);
    const k = key(type, object.metadata.namespace, object.metadata.name ?? "");
    this.writes.push({ verb: "create", kind: object.kind, name: object.metadata.name ?? "" });
    if (this.objects.has(k)) throw new ApiError(409, "AlreadyExists", `${type.plural} "${object.metadata.name}" already exists`);
    const created = { ...structuredClone(object), metadata: { ...object.metadata, uid: `uid-${object.metadata.name}`, creationTimestamp: this.timestamp(), resourceVersion: this.nextVersion() } };
    this.store(type, created);
    return structuredClone(created);
  }

  private patch(type: ResourceType, ns: string | undefined, name: string, patch: unknown, verb: "patch" | "patchStatus"): KubeObject {
    this.writes.push({ verb, kind: type.kind, name });
    const current = this.objects.get(key(type, ns, name));
    if (!current) throw new ApiError(404, "NotFound", `${type.plural} "${name}" not found`);
    const precondition = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== current.metadata.resourceVersion) throw new ApiError(409, "Conflict", `the object has been modified; please apply your changes to the latest version`);
    const next = mergePatch(current, patch) as KubeObject;
    next.metadata.resourceVersion = this.nextVersion();
    this.store(type, next);
    return structuredClone(next);
  }

  private delete(type: ResourceType, ns: string | undefined, name: string): boolean {
    this.writes.push({ verb: "delete", kind: type.kind, name });
    const k = key(type, ns, name);
    const current = this.objects.get(k);
    if (!current) return false;
    if (current.metadata.finalizers?.length) current.metadata.deletionTimestamp ??= this.timestamp();
    else this.objects.delete(k);
    return true;
  }

  private store(type: ResourceType, o: KubeObject): void {
    this.objects.set(key(type, o.metadata.namespace, o.metadata.name ?? ""), o);
  }

  private nextVersion(): string {
    return String(++this.version);
  }

  /** One second apart, in the order objects come, as API server timestamps are. */
  private timestamp(): string {
    return new Date(Date.UTC(2026, 0, 1) + this.version * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  }
}

function typeOf(o: KubeObject): ResourceType {
  const type = Object.values(RESOURCES).find((r) => r.kind === o.kind && apiVersionOf(r) === o.apiVersion);
  if (!type) throw new Error(`FakeKube does not know ${o.apiVersion} ${o.kind}`);
  return type;
}

function key(type: ResourceType, ns: string | undefined, name: string): string {
  return `${type.plural}/${type.namespaced ? (ns ?? "") : ""}/${name}`;
}

/** RFC 7386: null removes a field, objects merge, the rest replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
