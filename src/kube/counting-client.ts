import type { Counter } from "prom-client";
import type { KubeClient, KubeObject } from "./client.js";
import { resourceFor, type ResourceType } from "./resources.js";

/** What a request is about, as a metric label: the resource's plural, and its subresource. */
function resourceOf(object: Pick<KubeObject, "apiVersion" | "kind">): string {
  try {
    return resourceFor(object.apiVersion, object.kind).plural;
  } catch {
    return object.kind.toLowerCase();
  }
}

/** pods/attach, pods/exec: the subresource a websocket path names. */
function streamResourceOf(path: string): string {
  const match = /\/([a-z]+)\/[^/]+\/([a-z]+)(?:\?|$)/.exec(path);
  return match ? `${match[1]}/${match[2]}` : "unknown";
}

/**
 * A KubeClient that counts every request it passes on in `ktf_api_requests_total{verb,
 * resource}`, by the API's verbs (a replace is an update, an apply a patch; a watch counts
 * once, when it starts), so that what the operator costs the API server can be measured.
 */
export function countingClient(client: KubeClient & { close?(): void }, metrics: { apiRequests: Counter<"verb" | "resource"> }): KubeClient & { close(): void } {
  const count = (verb: string, resource: string) => metrics.apiRequests.inc({ verb, resource });
  const of = (type: ResourceType) => type.plural;
  return {
    get defaultNamespace() {
      return client.defaultNamespace;
    },
    get(type, namespace, name) {
      count("get", of(type));
      return client.get(type, namespace, name);
    },
    list(type, namespace, options) {
      count("list", of(type));
      return client.list(type, namespace, options);
    },
    create(object, options) {
      count("create", resourceOf(object));
      return client.create(object, options);
    },
    replace(object, options) {
      count("update", resourceOf(object));
      return client.replace(object, options);
    },
    apply(object, options) {
      count("patch", resourceOf(object));
      return client.apply(object, options);
    },
    patch(type, namespace, name, patch, patchType) {
      count("patch", of(type));
      return client.patch(type, namespace, name, patch, patchType);
    },
    patchStatus(type, namespace, name, status, options) {
      count("patch", `${of(type)}/status`);
      return client.patchStatus(type, namespace, name, status, options);
    },
    delete(type, namespace, name, options) {
      count("delete", of(type));
      return client.delete(type, namespace, name, options);
    },
    watch(type, namespace, options, onEvent, signal) {
      count("watch", of(type));
      return client.watch(type, namespace, options, onEvent, signal);
    },
    logs(namespace, pod, options, signal) {
      count("get", "pods/log");
      return client.logs(namespace, pod, options, signal);
    },
    websocket(path, protocols) {
      count("create", streamResourceOf(path));
      return client.websocket(path, protocols);
    },
    review(object) {
      count("create", resourceOf(object));
      return client.review(object);
    },
    close() {
      client.close?.();
    },
  };
}
