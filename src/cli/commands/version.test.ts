import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ApiError, ConnectionError, UsageError } from "../../errors.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import type { ResourceType } from "../../kube/resources.js";
import { KTF_VERSION } from "../../version.js";
import { versionInTag } from "../installed-versions.js";
import type { Terminal } from "../output/terminal.js";
import type { Session } from "../session.js";
import { version } from "./version.js";

function terminal() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const seen = { out: "", err: "" };
  stdout.on("data", (d: Buffer) => (seen.out += d.toString()));
  stderr.on("data", (d: Buffer) => (seen.err += d.toString()));
  const t = { stdout, stderr, stdin: new PassThrough(), env: {}, cwd: "/nonexistent" } as unknown as Terminal;
  return { t, seen };
}

function operator(labels: Record<string, string>, image = "registry:5000/ktf:v9.9.9"): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "ktf-operator", namespace: "ktf-system", labels },
    spec: { template: { spec: { containers: [{ name: "operator", image, env: [{ name: "KTF_RUNNER_IMAGE", value: "registry:5000/ktf:run" }] }] } } },
  };
}

function workspace(engine: Record<string, string>, image?: string): KubeObject {
  return { apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "net", namespace: "team" }, spec: { engine, ...(image ? { image } : {}) } };
}

/** A cluster that answers `get` from these objects by kind, or fails every request with `error`. */
function cluster(objects: KubeObject[], error?: Error): () => Promise<Session> {
  const get = (type: ResourceType) => (error ? Promise.reject(error) : Promise.resolve(objects.find((o) => o.kind === type.kind)));
  const list = () => Promise.resolve({ items: [], resourceVersion: "1" });
  return () => Promise.resolve({ namespace: "team", server: "https://k8s:6443 (context c)", client: { get, list } as unknown as KubeClient });
}

async function ktfVersion(open: () => Promise<Session>, o: { workspace?: string; output?: string } = {}) {
  const { t, seen } = terminal();
  const code = await version(t, { operatorNamespace: "ktf-system", output: "text", workspace: "net", ...o }, open);
  return { code, ...seen };
}

describe("ktf version", () => {
  it("shows ktf's version, the operator's from its label, and the workspace's pinned engine", async () => {
    const r = await ktfVersion(cluster([operator({ "app.kubernetes.io/version": KTF_VERSION }), workspace({ name: "terraform", version: "v1.5.7" })]));
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `ktf:       ${KTF_VERSION}\n` +
        `operator:  ${KTF_VERSION} (deployment ktf-system/ktf-operator, image registry:5000/ktf:v9.9.9)\n` +
        "engine:    terraform 1.5.7 (workspace team/net)\n",
    );
    expect(r.err).toBe("");
  });

  it("names the run image when the workspace pins no engine version: its own, else the operator's", async () => {
    const own = await ktfVersion(cluster([operator({}), workspace({ name: "tofu" }, "example.com/ktf:custom")]));
    expect(own.out).toContain("engine:    tofu, the version in run image example.com/ktf:custom (workspace team/net pins none)\n");
    const operators = await ktfVersion(cluster([operator({}), workspace({ name: "tofu" })]));
    expect(operators.out).toContain("engine:    tofu, the version in run image registry:5000/ktf:run (workspace team/net pins none)\n");
  });

  it("warns on stderr when the operator runs another version, taken from the image's tag without a label", async () => {
    const r = await ktfVersion(cluster([operator({}), workspace({ name: "tofu" })]));
    expect(r.code).toBe(0);
    expect(r.out).toContain("operator:  9.9.9 (deployment ktf-system/ktf-operator, image registry:5000/ktf:v9.9.9)\n");
    expect(r.err).toBe(`ktf: warning: this ktf is ${KTF_VERSION} but the operator is 9.9.9: use ktf 9.9.9, or run \`ktf install\` to put ${KTF_VERSION} in the cluster\n`);
  });

  it("says when neither the label nor the tag tells the operator's version", async () => {
    const r = await ktfVersion(cluster([operator({}, "ktf:dev"), workspace({ name: "tofu" })]));
    expect(r.out).toContain("operator:  unknown (deployment ktf-system/ktf-operator, image ktf:dev: no version label, and the image's tag is no version)\n");
    expect(r.err).toBe("");
  });

  it("says per line that ktf is not installed, and exits 0", async () => {
    const r = await ktfVersion(cluster([]));
    expect(r.code).toBe(0);
    expect(r.out).toContain(`ktf:       ${KTF_VERSION}\n`);
    expect(r.out).toContain("operator:  unknown: ktf is not installed in the cluster at https://k8s:6443 (context c): no deployment ktf-operator in namespace ktf-system");
    expect(r.out).toContain("engine:    unknown: workspace net does not exist in namespace team");
  });

  it.each([
    ["an unreachable cluster", new ConnectionError("cannot reach the Kubernetes API at https://k8s:6443 (ECONNREFUSED)"), "unknown: cannot reach the Kubernetes API at https://k8s:6443 (ECONNREFUSED)"],
    ["a refusal", new ApiError(403, "Forbidden", 'deployments.apps "ktf-operator" is forbidden'), 'unknown: forbidden: deployments.apps "ktf-operator" is forbidden'],
  ])("says per line what %s answered, and exits 0", async (_, error, line) => {
    const r = await ktfVersion(cluster([], error));
    expect(r.code).toBe(0);
    expect(r.out).toBe(`ktf:       ${KTF_VERSION}\noperator:  ${line}\nengine:    ${line}\n`);
  });

  it("says that no workspace is selected", async () => {
    const r = await ktfVersion(cluster([operator({ "app.kubernetes.io/version": KTF_VERSION })]), { workspace: undefined });
    expect(r.out).toContain("engine:    unknown: no workspace selected for this directory");
  });

  it("still shows its own version without any cluster to talk to", async () => {
    const r = await ktfVersion(() => Promise.reject(new UsageError("no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config")));
    expect(r.code).toBe(0);
    expect(r.out).toBe(`ktf:       ${KTF_VERSION}\noperator:  unknown: no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config\nengine:    unknown: no cluster to talk to: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config\n`);
  });

  it("prints JSON with -o json", async () => {
    const r = await ktfVersion(cluster([operator({ "app.kubernetes.io/version": KTF_VERSION }), workspace({ name: "tofu", version: "1.10.10" })]), { output: "json" });
    expect(JSON.parse(r.out)).toEqual({
      ktf: { version: KTF_VERSION },
      operator: { namespace: "ktf-system", version: KTF_VERSION, image: "registry:5000/ktf:v9.9.9", runnerImage: "registry:5000/ktf:run" },
      engine: { namespace: "team", workspace: "net", name: "tofu", version: "1.10.10", image: "registry:5000/ktf:run" },
    });
  });

  it("refuses another output format", async () => {
    await expect(ktfVersion(cluster([]), { output: "yaml" })).rejects.toThrow('--output expects text or json, got "yaml"');
  });
});

describe("the version in an image's tag", () => {
  it.each([
    ["ghcr.io/ktf-dev/ktf:v0.1.0", "0.1.0"],
    ["registry:5000/ktf:1.2.3-rc.1@sha256:abc", "1.2.3-rc.1"],
    ["registry:5000/ktf", undefined],
    ["ktf:dev", undefined],
    ["ktf@sha256:abc", undefined],
  ])("%s: %s", (image, expected) => {
    expect(versionInTag(image)).toBe(expected);
  });
});
