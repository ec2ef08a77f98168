import type { ObjectMeta } from "../api/meta.js";
import type { ResourceType } from "./resources.js";

/** Any Kubernetes object, as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Only the objects' metadata (PartialObjectMetadata): what could be large (Secret data) is left out. */
  metadataOnly?: boolean;
}

export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WatchOptions extends ListOptions {
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
}

export interface LogOptions {
  container?: string;
  follow?: boolean;
  timestamps?: boolean;
  sinceTime?: string;
  tailLines?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  gracePeriodSeconds?: number;
  /** Only delete when the object still has this uid. */
  uid?: string;
}

export type PatchType = "merge" | "json" | "strategic";

/**
 * The seam between ktf and the Kubernetes API. Everything that talks to a cluster takes
 * one of these, so tests hand in a client for the real test cluster and nothing is a
 * module global.
 *
 * Errors: an error status from the API is thrown as ApiError (status, reason, message);
 * an unreachable cluster as ConnectionError. `get` returns undefined on 404 instead.
 */
export interface KubeClient {
  /** The namespace of the current context (kubeconfig) or of the pod (in cluster). */
  readonly defaultNamespace: string;

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options?: ListOptions): Promise<ObjectList<T>>;
  create<T extends KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** Replace (PUT); fails with a 409 ApiError when metadata.resourceVersion is stale. */
  replace<T extends KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** Server-side apply with ktf's field manager; `force` takes conflicting fields over. */
  apply<T extends KubeObject>(object: T, options?: WriteOptions & { force?: boolean; fieldManager?: string }): Promise<T>;
  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, patchType?: PatchType): Promise<T>;
  /**
   * A JSON merge patch of the status subresource. With `resourceVersion`, it fails with a 409
   * ApiError when the object changed since that version (a status computed from a stale copy).
   */
  patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: unknown, options?: { resourceVersion?: string }): Promise<T>;
  /** Returns false when the object was already gone. */
  delete(type: ResourceType, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<boolean>;
  /**
   * One watch request: resolves when the server ends it (timeout) or the signal aborts.
   * A 410 Gone is thrown as ApiError so that the caller relists.
   */
  watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** A pod's log as a stream of raw bytes; with `follow`, it ends when the container does. */
  logs(namespace: string, pod: string, options: LogOptions, signal?: AbortSignal): Promise<NodeJS.ReadableStream>;
  /**
   * A streaming subresource (pods/attach, pods/exec) over a websocket, authenticated like
   * every other request. `path` is the API path with its query string.
   */
  websocket(path: string, protocols: string[]): Promise<import("ws").WebSocket>;
  /** A POST to a create-only API (reviews): returns the server's answer. */
  review<T extends KubeObject>(object: T): Promise<T>;
}
