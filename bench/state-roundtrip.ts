// Benchmark: a 50 MB incompressible state through the built-in backend on the local
// cluster: `ktf apply` that writes it, `ktf state pull` that reads it back (sealed to the
// CLI on the way), and the StateStore write and read alone (median of the rounds), against
// writing the same bytes to a local file as the floor; then the time from a state write
// (a small one) to its copy in S3, as the operator makes it. Needs the cluster up, the
// object stores up and ktf installed with them as the e2e setup does (KTF_KEEP_CLUSTER=1).
//   node --import tsx bench/state-roundtrip.ts [rounds]
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { connectToCluster } from "../src/kube/connect.js";
import { StateStore } from "../src/state/state-store.js";

const root = join(new URL("..", import.meta.url).pathname);
const rounds = Number(process.argv[2] ?? 3);
const env = Object.fromEntries(execFileSync(join(root, "scripts/cluster.sh"), ["env"], { encoding: "utf8" }).trim().split("\n").map((l) => l.split("=", 2))) as Record<string, string>;
const kubeconfig = env.KUBECONFIG ?? "";
const kubectl = env.KUBECTL ?? "kubectl";
const ktf = join(root, "dist/bin/ktf.js");
const ns = `bench-state-${Date.now().toString(36)}`;
const client = connectToCluster({ kubeconfig }).client;

const dir = mkdtempSync(join(tmpdir(), "ktf-bench-"));
writeFileSync(join(dir, "blob.bin"), randomBytes(38 * 1024 * 1024));
writeFileSync(join(dir, "main.tf"), 'variable "tick" {\n  type = string\n}\nresource "terraform_data" "tick" {\n  input = var.tick\n}\noutput "blob" {\n  value = filebase64("${path.module}/blob.bin")\n}\n');

function timed(cmd: string, args: string[]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: dir, env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return { ms: performance.now() - t0, stdout: r.stdout };
}
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Median time from a small state write (a version of its own) to the operator's copy of it in S3. */
async function backupLatency(rounds: number): Promise<number> {
  const stores = Object.fromEntries(execFileSync(join(root, "scripts/object-stores.sh"), ["env"], { encoding: "utf8" }).trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])) as Record<string, string>;
  const s3 = new S3Client({ region: "us-east-1", endpoint: stores.S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: stores.S3_ACCESS_KEY ?? "", secretAccessKey: stores.S3_SECRET_KEY ?? "" } });
  const store = new StateStore(client, { namespace: ns, suffix: "small" });
  timed(process.execPath, [ktf, "workspace", "new", "small", "-n", ns, "--no-select"]);
  const times: number[] = [];
  try {
    for (let serial = 1; serial <= rounds; serial++) {
      const t0 = performance.now();
      await store.write(Buffer.from(JSON.stringify({ version: 4, serial, lineage: "bench", resources: [] })), { run: "bench" });
      const key = `e2e/${ns}/small/${String(serial).padStart(12, "0")}.tfstate`;
      while (!(await s3.send(new HeadObjectCommand({ Bucket: stores.BUCKET, Key: key })).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 20));
      times.push(performance.now() - t0);
    }
  } finally {
    s3.destroy();
  }
  return median(times);
}

timed(kubectl, ["--kubeconfig", kubeconfig, "create", "namespace", ns]);
try {
  timed(process.execPath, [ktf, "workspace", "new", "bench", "-n", ns]);
  const apply: number[] = [];
  const pull: number[] = [];
  let size = 0;
  for (let i = 0; i < rounds; i++) {
    apply.push(timed(process.execPath, [ktf, "apply", "-auto-approve", "-var", `tick=${i}`]).ms);
    const pulled = timed(process.execPath, [ktf, "state", "pull"]);
    pull.push(pulled.ms);
    size = Buffer.byteLength(pulled.stdout);
  }
  const store = new StateStore(client, { namespace: ns, suffix: "bench" });
  const state = (await store.read()) ?? Buffer.alloc(0);
  const header = JSON.parse(state.toString()) as { serial: number; lineage: string };
  const writes: number[] = [];
  const reads: number[] = [];
  const local: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const next = Buffer.from(state.toString().replace(`"serial": ${header.serial}`, `"serial": ${header.serial + 1 + i}`));
    writes.push(await time(() => store.write(next, { run: "bench" })));
    reads.push(await time(() => store.read()));
    local.push(await time(() => Promise.resolve(writeFileSync(join(dir, "state.json"), next))));
  }
  console.log(`state size: ${(size / 1e6).toFixed(1)} MB (${rounds} rounds, medians)`);
  console.log(`ktf apply (writes it):            ${s(median(apply))}`);
  console.log(`ktf state pull (reads it, sealed): ${s(median(pull))}`);
  console.log(`StateStore.write (a new version): ${s(median(writes))}`);
  console.log(`StateStore.read:                  ${s(median(reads))}`);
  console.log(`local file write (the floor):     ${s(median(local))}  ratio write/floor ${(median(writes) / median(local)).toFixed(0)}x`);
  console.log(`state write -> copy in S3:        ${s(await backupLatency(rounds * 3))}`);
} finally {
  timed(kubectl, ["--kubeconfig", kubeconfig, "delete", "namespace", ns, "--wait=false"]);
  client.close();
}
