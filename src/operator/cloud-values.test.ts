import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceSchema } from "../api/workspace.js";
import type { KubeClient } from "../kube/client.js";
import { isSecretSource, sourceValue } from "./cloud-values.js";

const ws = (namespace: string) =>
  workspaceSchema.parse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "app", namespace }, spec: { cloud: { organization: "org" } } });
const client = { get: () => Promise.resolve(undefined) } as unknown as KubeClient;
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ktf-mounted-"));
  await writeFile(join(dir, "team-a.db_password"), "s3cret\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("sourceValue from the mounted variables", () => {
  const mounted = { valueFrom: { mounted: { key: "db_password" } } };

  it("reads the file <namespace>.<key>, as it is", async () => {
    expect(await sourceValue({ client, mountedDir: dir }, ws("team-a"), "spec.variables[0]", mounted)).toBe("s3cret\n");
    expect(isSecretSource({ ...mounted, sensitive: false })).toBe(true);
  });

  it("gives another namespace nothing of it, naming the field and the file it looked for", async () => {
    await expect(sourceValue({ client, mountedDir: dir }, ws("team-b"), "spec.variables[0]", mounted)).rejects.toThrow(
      "spec.variables[0].valueFrom.mounted: the installation's mounted variables have no key team-b.db_password (<namespace>.<key>)",
    );
  });

  it("says how to give the installation mounted variables when it has none", async () => {
    await expect(sourceValue({ client }, ws("team-a"), "spec.env[1]", mounted)).rejects.toThrow(/^spec\.env\[1\]\.valueFrom\.mounted: the installation has no mounted variables \(ktf install --cloud-variables SECRET/);
  });

  it("refuses a missing Secret or ConfigMap by field and name", async () => {
    await expect(sourceValue({ client }, ws("team-a"), "spec.variables[2]", { valueFrom: { secretKeyRef: { name: "db", key: "pw" } } })).rejects.toThrow(
      "spec.variables[2].valueFrom.secretKeyRef: Secret db does not exist in namespace team-a",
    );
  });
});

describe("valueFrom.mounted in the schema", () => {
  it("is only for a cloud workspace, and one source at a time", () => {
    const base = { apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "app", namespace: "team-a" } };
    const inCluster = workspaceSchema.safeParse({ ...base, spec: { variables: [{ name: "pw", valueFrom: { mounted: { key: "pw" } } }] } });
    expect(inCluster.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toEqual([expect.stringMatching(/^spec\.variables: valueFrom\.mounted needs cloud/)]);
    const two = workspaceSchema.safeParse({ ...base, spec: { cloud: { organization: "o" }, variables: [{ name: "pw", valueFrom: { mounted: { key: "pw" }, secretKeyRef: { name: "s", key: "k" } } }] } });
    expect(two.error?.issues[0]?.message).toBe("set exactly one of secretKeyRef, configMapKeyRef and mounted");
    const slash = workspaceSchema.safeParse({ ...base, spec: { cloud: { organization: "o" }, variables: [{ name: "pw", valueFrom: { mounted: { key: "../x" } } }] } });
    expect(slash.success).toBe(false);
  });
});
