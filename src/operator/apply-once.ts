import type { KubeClient, KubeObject } from "../kube/client.js";

/**
 * Server-side applies that remember what they applied: the same object again within `ttlMs`
 * is not sent. The Workspace controller wakes on every change of every run, and re-applying
 * a workspace's unchanged ServiceAccount, Role and RoleBinding each time made most of its
 * API requests. An object changed or deleted out of band is put back at the latest after
 * `ttlMs` (nothing watches those kinds, so before, it was put back at the next wake-up).
 */
export class ApplyOnce {
  private readonly applied = new Map<string, { json: string; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async apply(client: KubeClient, object: KubeObject): Promise<void> {
    const key = `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
    const json = JSON.stringify(object);
    const last = this.applied.get(key);
    if (last?.json === json && this.now() - last.at < this.ttlMs) return;
    this.applied.delete(key);
    await client.apply(object, { force: true });
    this.applied.set(key, { json, at: this.now() });
  }

  /** Forgets an object (deleted, or its owner gone), so that it is applied again when wanted. */
  forget(object: KubeObject): void {
    this.applied.delete(`${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`);
  }
}
