// Benchmark: `ktf plan` on a trivial configuration against the by-hand baseline, a
// ConfigMap plus `kubectl run --rm -i` of the same image running `tofu plan`, on the
// local cluster; and the time from Run creation to run pod creation. Prints figures and
// ratios measured in this one run. Needs the cluster up and ktf installed (npm run demo,
// or the e2e setup with KTF_KEEP_CLUSTER=1).
//   node --import tsx bench/plan-vs-kubectl.ts [rounds]
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectToCluster } from "../src/kube/connect.js";
import { RESOURCES } from "../src/kube/resources.js";

const root = join(new URL("..", import.meta.url).pathname);
const rounds = Number(process.argv[2] ?? 5);
const env = Object.fromEntries(execFileSync(join(root, "scripts/cluster.sh"), ["env"], { encoding: "utf8" }).trim().split("\n").map((l) => l.split("=", 2))) as Record<string, string>;
const kubeconfig = env.KUBECONFIG ?? "";
const kubectl = env.KUBECTL ?? "kubectl";
const ktf = join(root, "dist/bin/ktf.js");
const ns = `bench-${Date.now().toString(36)}`;
const client = connectToCluster({ kubeconfig }).client;

const CONFIG = 'resource "terraform_data" "x" {\n  input = "bench"\n}\n';
const dir = mkdtempSync(join(tmpdir(), "ktf-bench-"));
writeFileSync(join(dir, "main.tf"), CONFIG);

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? dir, input: opts.input, env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const image = (JSON.parse(execFileSync(kubectl, ["--kubeconfig", kubeconfig, "-n", "ktf-system", "get", "deploy", "ktf-operator", "-o", "json"], { encoding: "utf8" })) as {
  spec: { template: { spec: { containers: { image: string }[] } } };
}).spec.template.spec.containers[0]?.image;

run(kubectl, ["--kubeconfig", kubeconfig, "create", "namespace", ns]);
try {
  run(process.execPath, [ktf, "workspace", "new", "bench", "-n", ns]);
  // Warm both paths once (image layers in the page cache, the workspace's RBAC).
  run(process.execPath, [ktf, "plan"]);

  const overrides = JSON.stringify({
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "baseline",
          image,
          stdin: true,
          command: ["sh", "-c", "mkdir -p /tmp/w && cp /cfg/* /tmp/w && cd /tmp/w && tofu init -input=false >/dev/null && tofu plan -input=false"],
          env: [{ name: "HOME", value: "/tmp" }],
          volumeMounts: [{ name: "cfg", mountPath: "/cfg" }],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
      volumes: [{ name: "cfg", configMap: { name: "bench-cfg" } }],
    },
  });
  const baseline = (i: number) =>
    run(kubectl, ["--kubeconfig", kubeconfig, "-n", ns, "create", "configmap", "bench-cfg", `--from-file=${join(dir, "main.tf")}`]) +
    run(kubectl, ["--kubeconfig", kubeconfig, "-n", ns, "run", `baseline-${i}`, "--rm", "-i", "--quiet", "--restart=Never", `--image=${image}`, `--overrides=${overrides}`]) +
    run(kubectl, ["--kubeconfig", kubeconfig, "-n", ns, "delete", "configmap", "bench-cfg"]);
  baseline(0);

  const ktfTimes: number[] = [];
  const kubectlTimes: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    ktfTimes.push(run(process.execPath, [ktf, "plan"]));
    kubectlTimes.push(baseline(i));
  }

  // Run creation to pod creation, seen by a watcher here (timestamps in the API have one-second resolution).
  const podLatency: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const name = `latency-${i}`;
    const t0 = performance.now();
    await client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name, namespace: ns }, spec: { workspace: "bench", command: "version" } });
    for (;;) {
      if (await client.get(RESOURCES.Pod, ns, name)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    podLatency.push(performance.now() - t0);
  }

  const k = median(ktfTimes);
  const b = median(kubectlTimes);
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`rounds: ${rounds} (medians)`);
  console.log(`ktf plan:                          ${fmt(k)}   [${ktfTimes.map(fmt).join(", ")}]`);
  console.log(`configmap + kubectl run --rm -i:   ${fmt(b)}   [${kubectlTimes.map(fmt).join(", ")}]`);
  console.log(`ratio ktf / kubectl:               ${(k / b).toFixed(2)}   (target: <= 1.00)`);
  console.log(`run created -> pod created:        ${median(podLatency).toFixed(0)} ms   [${podLatency.map((x) => x.toFixed(0)).join(", ")}]`);
} finally {
  client.close();
  spawnSync(kubectl, ["--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=false"]);
}
