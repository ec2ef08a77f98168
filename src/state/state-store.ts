import { gunzipSync, gzipSync } from "node:zlib";
import { isApiError } from "../errors.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";

/**
 * Where a workspace's state lives: a Secret in its namespace, in the format of the
 * engines' own `kubernetes` backend (gzipped JSON under `tfstate`, the same labels), so
 * that either can read what the other wrote.
 */
export interface StateLocation {
  namespace: string;
  /** The workspace name: the kubernetes backend's secret_suffix. */
  suffix: string;
}

export function stateSecretName(suffix: string): string {
  return `tfstate-default-${suffix}`;
}

export function stateLeaseName(suffix: string): string {
  return `lock-tfstate-default-${suffix}`;
}

type Secret = KubeObject & { data?: Record<string, string>; type?: string };

/** The Secret that holds `state` (pure). */
export function stateSecret(loc: StateLocation, state: Buffer, base?: Secret): Secret {
  return {
    ...(base ?? {}),
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      ...(base?.metadata ?? {}),
      name: stateSecretName(loc.suffix),
      namespace: loc.namespace,
      labels: {
        ...(base?.metadata.labels ?? {}),
        tfstate: "true",
        tfstateSecretSuffix: loc.suffix,
        tfstateWorkspace: "default",
        "app.kubernetes.io/managed-by": "ktf",
      },
    },
    type: "Opaque",
    data: { tfstate: gzipSync(state).toString("base64") },
  };
}

export class StateStore {
  constructor(
    private readonly client: KubeClient,
    private readonly loc: StateLocation,
  ) {}

  /** The state as the engine wrote it, or undefined before the first write. */
  async read(): Promise<Buffer | undefined> {
    const secret = await this.client.get<Secret>(RESOURCES.Secret, this.loc.namespace, stateSecretName(this.loc.suffix));
    const data = secret?.data?.tfstate;
    return data ? gunzipSync(Buffer.from(data, "base64")) : undefined;
  }

  /** Writes the state, creating the Secret the first time; retries lost races. */
  async write(state: Buffer): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.client.get<Secret>(RESOURCES.Secret, this.loc.namespace, stateSecretName(this.loc.suffix));
      try {
        if (current) await this.client.replace(stateSecret(this.loc, state, current));
        else await this.client.create(stateSecret(this.loc, state));
        return;
      } catch (err) {
        if (!isApiError(err, 409) || attempt >= 5) throw err;
      }
    }
  }

  async delete(): Promise<void> {
    await this.client.delete(RESOURCES.Secret, this.loc.namespace, stateSecretName(this.loc.suffix));
  }
}
