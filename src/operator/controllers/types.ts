import type { KubeObject } from "../../kube/client.js";

/** What a reconcile is asked to look at: only a name, never the event that woke it. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  /** Look again after this many milliseconds even if nothing changes. */
  requeueAfter?: number;
}

/** Records Kubernetes events about an object. Messages must not contain secret values. */
export interface EventSink {
  normal(object: KubeObject | { apiVersion: string; kind: string; metadata: KubeObject["metadata"] }, reason: string, message: string): void;
  warning(object: KubeObject | { apiVersion: string; kind: string; metadata: KubeObject["metadata"] }, reason: string, message: string): void;
}
