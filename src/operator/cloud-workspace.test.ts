import { describe, expect, it } from "vitest";
import { workspaceSchema } from "../api/workspace.js";
import { CliCredentials } from "../cloud/credentials.js";
import type { KubeClient } from "../kube/client.js";
import { cloudClient, type CloudSyncOptions } from "./cloud-workspace.js";

const ws = (cloud: Record<string, unknown>) =>
  workspaceSchema.parse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "net", namespace: "team-a", uid: "u1" }, spec: { cloud: { organization: "acme", ...cloud } } });

/** Only `get` is asked for here: a Secret that exists with these keys, or none. */
function options(secret: Record<string, string> | undefined, credentials?: string): CloudSyncOptions {
  const client = { get: () => Promise.resolve(secret && { metadata: { name: "tfc" }, data: Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) }) } as unknown as KubeClient;
  return {
    client,
    events: { normal: () => undefined, warning: () => undefined },
    fetch: () => Promise.reject(new Error("no request expected")),
    ...(credentials !== undefined ? { credentials: () => Promise.resolve(CliCredentials.parse(credentials, "credentials.tfrc")) } : {}),
  };
}

describe("cloudClient", () => {
  it("takes the workspace's token Secret, else the installation's credentials for the host", async () => {
    expect((await cloudClient(options({ token: "ws-token\n" }), ws({ token: { secretKeyRef: { name: "tfc", key: "token" } } }))).token).toBe("ws-token");
    expect((await cloudClient(options(undefined, 'credentials "app.terraform.io" {\n  token = "site-token"\n}\n'), ws({}))).token).toBe("site-token");
  });

  it("refuses clearly, naming the field, when there is no token, and never shows one", async () => {
    await expect(cloudClient(options({ other: "x" }), ws({ token: { secretKeyRef: { name: "tfc", key: "token" } } }))).rejects.toThrow("spec.cloud.token.secretKeyRef: Secret tfc has no key token");
    await expect(cloudClient(options(undefined), ws({ token: { secretKeyRef: { name: "tfc", key: "token" } } }))).rejects.toThrow("spec.cloud.token.secretKeyRef: Secret tfc does not exist in namespace team-a");
    const other = 'credentials "tfe.example.com" {\n  token = "other-token"\n}\n';
    const err = (await cloudClient(options(undefined, other), ws({})).then(() => new Error("no refusal"), (e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^no token for app\.terraform\.io: give the installation a credentials file \(ktf install --cloud-credentials SECRET\)/);
    expect(err.message).not.toContain("other-token");
    expect((err as { reason?: string }).reason).toBe("CloudCredentials");
  });
});
