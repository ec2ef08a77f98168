import { createHash } from "node:crypto";
import { LABELS } from "../api/group.js";
import { isApiError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import type { GitHubEvent } from "./events.js";

const COMPONENT = "github-delivery";
const EVENT_KEY = "event.json";

/**
 * The deliveries the receiver acknowledged and has not finished, kept as ConfigMaps of its
 * namespace (in etcd, so a restart loses none): one per delivery, named from its ID, holding
 * the parsed event (small, whatever the payload's size). Recording one that is there already
 * says "known", so a redelivery is not handled twice while the first is pending.
 */
export class DeliveryQueue {
  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
  ) {}

  /** Keeps the delivery until `done`; "known" when it is kept already. */
  async record(id: string, event: GitHubEvent): Promise<"new" | "known"> {
    const object: KubeObject & { data: Record<string, string> } = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: configMapName(id), namespace: this.namespace, labels: { [LABELS.component]: COMPONENT }, annotations: { "ktf.dev/github-delivery": id } },
      data: { [EVENT_KEY]: JSON.stringify(event) },
    };
    try {
      await this.kube.create(object);
      return "new";
    } catch (err) {
      if (isApiError(err, 409)) return "known";
      throw err;
    }
  }

  async done(id: string): Promise<void> {
    await this.kube.delete(RESOURCES.ConfigMap, this.namespace, configMapName(id)).catch((err: unknown) => {
      if (!isApiError(err, 404)) throw err;
    });
  }

  /** What a receiver that stopped left to do, oldest first. */
  async pending(): Promise<{ id: string; event: GitHubEvent }[]> {
    const list = await this.kube.list<KubeObject & { data?: Record<string, string> }>(RESOURCES.ConfigMap, this.namespace, { labelSelector: `${LABELS.component}=${COMPONENT}` });
    return list.items
      .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
      .flatMap((cm) => {
        const id = cm.metadata.annotations?.["ktf.dev/github-delivery"];
        const text = cm.data?.[EVENT_KEY];
        return id && text ? [{ id, event: JSON.parse(text) as GitHubEvent }] : [];
      });
  }
}

/** GitHub's delivery IDs are GUIDs; hashed anyway, so that any ID makes a valid name. */
function configMapName(id: string): string {
  return `ktf-github-delivery-${createHash("sha256").update(id).digest("hex").slice(0, 32)}`;
}
