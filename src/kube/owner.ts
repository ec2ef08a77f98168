import type { KubeObject } from "./client.js";

/** What garbage collection follows from an object to its owner (a type, so that it fits ObjectMeta's loose one). */
export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

/** An owner reference to `owner`, so that the garbage collector deletes what it owns with it. */
export function ownerReference(owner: Pick<KubeObject, "apiVersion" | "kind" | "metadata">, options: { controller?: boolean } = {}): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? "",
    uid: owner.metadata.uid ?? "",
    ...(options.controller ? { controller: true, blockOwnerDeletion: true } : {}),
  };
}

export function isOwnedBy(obj: Pick<KubeObject, "metadata">, owner: Pick<KubeObject, "metadata">): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid);
}
