import { errorMessage } from "../../errors.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { RESOURCES } from "../../kube/resources.js";
import type { Logger } from "../../log.js";
import type { EventSink } from "../controllers/types.js";

const COMPONENT = "ktf-operator";
const DEDUP_WINDOW_MS = 10 * 60_000;
const MAX_REMEMBERED = 4096;

type Involved = Pick<KubeObject, "apiVersion" | "kind" | "metadata">;

/**
 * Kubernetes Events about ktf's objects. The same event for the same object within a few
 * minutes bumps the count of the first one instead of piling up. Recording never fails
 * the caller. Callers must not put secret values in messages.
 */
export class EventRecorder implements EventSink {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly host: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  normal(object: Involved, reason: string, message: string): void {
    void this.record(object, "Normal", reason, message);
  }

  warning(object: Involved, reason: string, message: string): void {
    void this.record(object, "Warning", reason, message);
  }

  private async record(object: Involved, type: string, reason: string, message: string): Promise<void> {
    const namespace = object.metadata.namespace ?? "default";
    const key = [object.metadata.uid, type, reason, message].join("\u0000");
    const now = this.now();
    const seen = this.recent.get(key);
    try {
      if (seen && now.getTime() - seen.at < DEDUP_WINDOW_MS) {
        seen.count++;
        seen.at = now.getTime();
        await this.client.patch(RESOURCES.Event, seen.namespace, seen.name, { count: seen.count, lastTimestamp: now.toISOString() });
        return;
      }
      const name = `${object.metadata.name ?? "object"}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
      await this.client.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name: object.metadata.name,
          namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: COMPONENT, host: this.host },
        reportingComponent: COMPONENT,
        reportingInstance: this.host,
        firstTimestamp: now.toISOString(),
        lastTimestamp: now.toISOString(),
        count: 1,
      });
      this.remember(key, { name, namespace, count: 1, at: now.getTime() });
    } catch (err) {
      this.log.warn({ namespace, name: object.metadata.name, reason, err: errorMessage(err) }, "Cannot record event");
    }
  }

  private remember(key: string, entry: { name: string; namespace: string; count: number; at: number }): void {
    this.recent.set(key, entry);
    if (this.recent.size > MAX_REMEMBERED) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}
