import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl } from "../harness/cluster.js";
import { workspaceFixture } from "../harness/workspace.js";

// What a configuration's own code sees: getaddrinfo in the run pod, through its resolv.conf.
const LOOKUP = `
const dns = require("node:dns").promises;
(async () => {
  for (const name of process.argv.slice(2)) {
    const { address } = await dns.lookup(name, { family: 4 });
    console.log("resolved " + name + " " + address);
  }
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
`;

const NAMES = ["kubernetes.default.svc.cluster.local", "kubernetes.default", "kube-dns.kube-system", "store"];

const CONFIG = `
resource "terraform_data" "lookup" {
  provisioner "local-exec" {
    command = "node lookup.cjs ${NAMES.join(" ")} store.\${var.namespace}.svc.cluster.local"
  }
}
variable "namespace" {
  type = string
}
`;

describe("cluster DNS in a run pod", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let nodeIP: string;
  beforeAll(async () => {
    w = await workspaceFixture("dns", { "main.tf": CONFIG, "lookup.cjs": LOOKUP });
    nodeIP = await kubectl(["get", "nodes", "-o", 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}']);
    // A headless Service without a selector, as one made for a store outside the cluster:
    // its name resolves to the addresses of its EndpointSlice.
    await kubectl(["-n", w.ns, "apply", "-f", "-"], {
      input: `apiVersion: v1
kind: Service
metadata: { name: store }
spec:
  clusterIP: None
  ports: [{ name: s3, port: 7070 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: store-1
  labels: { kubernetes.io/service-name: store }
addressType: IPv4
endpoints: [{ addresses: ["${nodeIP}"] }]
ports: [{ name: s3, port: 7070, protocol: TCP }]
`,
    });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("resolves Service names under cluster.local, short ones through the search path", async () => {
    const apply = await w.ktf(["apply", "-auto-approve", "-var", `namespace=${w.ns}`]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toContain("resolved kubernetes.default.svc.cluster.local 10.96.0.1");
    expect(apply.stdout).toContain("resolved kubernetes.default 10.96.0.1");
    expect(apply.stdout).toContain("resolved kube-dns.kube-system 10.96.0.10");
    expect(apply.stdout).toContain(`resolved store ${nodeIP}`);
    expect(apply.stdout).toContain(`resolved store.${w.ns}.svc.cluster.local ${nodeIP}`);
    // The kubelet warned about each run pod while the cluster had no DNS.
    const warnings = await kubectl(["-n", w.ns, "get", "events", "--field-selector", "reason=MissingClusterDNS", "-o", "name"]);
    expect(warnings.trim()).toBe("");
  });
});
