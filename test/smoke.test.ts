import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.js";
import { connectToCluster } from "../src/kube/connect.js";
import { followPodLog } from "../src/kube/log-follower.js";
import { RESOURCES } from "../src/kube/resources.js";
import { harness, testNamespace, waitFor } from "./harness/cluster.js";

/**
 * The cluster is real: a pod from the ktf image runs OpenTofu, its output is read through
 * the API while it runs, its exit code reaches the pod status, its ServiceAccount token
 * works against the API through the kubernetes Service, and the garbage collector deletes
 * what an owner owned.
 */
describe("the local cluster", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const client = () => connectToCluster({ kubeconfig: harness().kubeconfig }).client;

  beforeAll(async () => {
    ns = await testNamespace("smoke");
  });
  afterAll(async () => {
    await ns.remove();
  });

  it("runs tofu in a pod, streams its log while it runs, and reports its exit code", async () => {
    const c = client();
    const script = [
      "set -e",
      "mkdir -p /tmp/w && cd /tmp/w",
      `printf 'resource "terraform_data" "x" {\\n  input = "smoke"\\n}\\noutput "x" {\\n  value = terraform_data.x.output\\n}\\n' > main.tf`,
      "tofu init -input=false -no-color",
      "tofu plan -input=false -no-color",
      "tofu apply -auto-approve -input=false -no-color",
      "echo MARKER-WHILE-RUNNING",
      "sleep 4",
      "exit 7",
    ].join("\n");
    await c.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "tofu", namespace: ns.name },
      spec: {
        restartPolicy: "Never",
        securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "tofu",
            image: harness().image,
            command: ["sh", "-c", script],
            env: [{ name: "HOME", value: "/tmp" }],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          },
        ],
      },
    });

    const lines: string[] = [];
    let markerSeenWhileRunning = false;
    await followPodLog(
      c,
      { namespace: ns.name, pod: "tofu", container: "tofu" },
      (line) => {
        lines.push(line);
        if (line === "MARKER-WHILE-RUNNING") {
          void c.get<KubeObject & { status?: { phase?: string } }>(RESOURCES.Pod, ns.name, "tofu").then((p) => {
            markerSeenWhileRunning = p?.status?.phase === "Running";
          });
        }
      },
      new AbortController().signal,
    );
    const output = lines.join("\n");
    expect(output).toContain("OpenTofu has been successfully initialized!");
    expect(output).toContain("Plan: 1 to add, 0 to change, 0 to destroy.");
    expect(output).toContain("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.");
    expect(output).toContain('x = "smoke"');
    expect(markerSeenWhileRunning).toBe(true);

    const pod = await waitFor(async () => {
      const p = await c.get<KubeObject & { status?: { containerStatuses?: { state?: { terminated?: { exitCode: number } } }[] } }>(RESOURCES.Pod, ns.name, "tofu");
      return p?.status?.containerStatuses?.[0]?.state?.terminated;
    }, 60_000, "the pod to terminate");
    expect(pod.exitCode).toBe(7);
  });

  it("lets a pod use its ServiceAccount token against the API through the kubernetes Service", async () => {
    const c = client();
    await c.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "read-configmaps", namespace: ns.name },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
    });
    await c.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "read-configmaps", namespace: ns.name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-configmaps" },
      subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns.name }],
    });
    await c.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "greeting", namespace: ns.name }, data: { text: "hello from the API" } });
    const service = await c.get<KubeObject & { spec: { clusterIP: string } }>(RESOURCES.Service, "default", "kubernetes");
    // In-cluster config as every client library does it: the Service env vars, the token and CA files.
    const program = `
      const fs = require("fs"), https = require("https");
      const dir = "/var/run/secrets/kubernetes.io/serviceaccount";
      const host = process.env.KUBERNETES_SERVICE_HOST, port = process.env.KUBERNETES_SERVICE_PORT;
      console.log("HOST " + host);
      https.get({ host, port, path: "/api/v1/namespaces/${ns.name}/configmaps/greeting",
        ca: fs.readFileSync(dir + "/ca.crt"), headers: { Authorization: "Bearer " + fs.readFileSync(dir + "/token", "utf8") } },
        (res) => { let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => { console.log("STATUS " + res.statusCode); console.log("BODY " + JSON.parse(b).data?.text); }); });`;
    await c.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "in-cluster", namespace: ns.name },
      spec: {
        restartPolicy: "Never",
        securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "node",
            image: harness().image,
            command: ["node", "-e", program],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          },
        ],
      },
    });
    const lines: string[] = [];
    await followPodLog(c, { namespace: ns.name, pod: "in-cluster", container: "node" }, (l) => lines.push(l), new AbortController().signal);
    expect(lines).toContain(`HOST ${service?.spec.clusterIP}`);
    expect(lines).toContain("STATUS 200");
    expect(lines).toContain("BODY hello from the API");
  });

  it("deletes what an owner owns when the owner goes (garbage collector)", async () => {
    const c = client();
    const owner: KubeObject = await c.create<KubeObject>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner", namespace: ns.name } });
    await c.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "owned", namespace: ns.name, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid ?? "" }] },
    });
    await c.delete(RESOURCES.ConfigMap, ns.name, "owner");
    await waitFor(async () => !(await c.get(RESOURCES.ConfigMap, ns.name, "owned")), 60_000, "the owned ConfigMap to be collected");
  });
});
