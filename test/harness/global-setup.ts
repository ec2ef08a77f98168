import { CLOUD_VARIABLES_SECRET } from "./cloud-variables.js";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    image: string;
    kubectl: string;
    /** The object stores the operator backs state up to (scripts/object-stores.sh env). */
    stores: Record<string, string>;
    /** The API server runs as a stock 1.34 one (KTF_STOCK_API=1): no MutatingAdmissionPolicy. */
    stockApi: boolean;
    /** The node's address: run pods reach servers the tests start there. */
    nodeIp: string;
    /** The test provider's mirror directory (scripts/build-provider.sh). */
    providerMirrorDir: string;
    /** OTF, a real TFC API server on the node's address (scripts/otf.sh env). */
    otf: Record<string, string>;
    /** The arguments ktf was installed with (after `ktf install`): a test that reinstalls it differently restores it with these. */
    installArgs: string[];
  }
}

const ROOT = join(new URL("../..", import.meta.url).pathname);

function run(command: string, args: string[], what: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}): ${command} ${args.join(" ")}`);
  return result.stdout;
}

function envLines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
  );
}

/** The operator's backup stores: the Secret with the S3 keys, and the --backup flags. */
function backupArgs(kubectl: string, kubeconfig: string, stores: Record<string, string>): string[] {
  const manifest = JSON.stringify({
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "ktf-system" } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "ktf-backup", namespace: "ktf-system" }, stringData: { AWS_ACCESS_KEY_ID: stores.S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: stores.S3_SECRET_KEY } },
    ],
  });
  const applied = spawnSync(kubectl, ["--kubeconfig", kubeconfig, "apply", "-f", "-"], { cwd: ROOT, input: manifest, encoding: "utf8" });
  if (applied.status !== 0) throw new Error(`creating the backup Secret failed: ${applied.stderr}`);
  return [
    "--backup", `s3://${stores.BUCKET}/e2e?region=us-east-1&endpoint=${stores.S3_ENDPOINT}`,
    "--backup", `gs://${stores.BUCKET}/e2e?endpoint=${stores.GCS_ENDPOINT}`,
    "--backup-secret", "ktf-backup",
  ];
}

/**
 * Once per test run: the real cluster (started, or reused when already up), the ktf image
 * built from this checkout and loaded into the cluster, and ktf installed with it.
 * A cluster this setup started is stopped at the end unless KTF_KEEP_CLUSTER is set.
 * KTF_STOCK_API=1 runs the API server as a stock one (scripts/cluster.sh up --stock).
 */
export default function setup(project: TestProject): () => void {
  const wasUp = spawnSync("scripts/cluster.sh", ["status"], { cwd: ROOT }).status === 0;
  const stockApi = process.env.KTF_STOCK_API === "1";
  run("scripts/cluster.sh", ["up", ...(stockApi ? ["--stock"] : [])], "starting the cluster");
  const env = envLines(run("scripts/cluster.sh", ["env"], "reading the cluster's paths"));
  const kubeconfig = env.KUBECONFIG ?? "";
  const storesWereUp = spawnSync("scripts/object-stores.sh", ["status"], { cwd: ROOT }).status === 0;
  const stores = envLines(run("scripts/object-stores.sh", ["up"], "starting the object stores"));
  const otfEnv = { ...process.env, OTF_HOST: env.NODE_IP ?? "127.0.0.1" };
  const otfWasUp = spawnSync("scripts/otf.sh", ["status"], { cwd: ROOT, env: otfEnv }).status === 0;
  const otf = envLines(run("scripts/otf.sh", ["up"], "starting OTF", otfEnv));
  run("npm", ["run", "--silent", "build"], "building ktf");
  const providerMirrorDir = run("scripts/build-provider.sh", [], "building the test provider").trim();
  const image = run("scripts/build-images.sh", ["ktf"], "building the ktf image").trim().split("\n").pop() ?? "";
  run("scripts/load-images.sh", [image], "loading the ktf image");
  const backup = backupArgs(env.KUBECTL ?? "kubectl", kubeconfig, stores);
  const installArgs = ["--kubeconfig", kubeconfig, "--image", image, "--start-timeout", "20", "--cloud-variables", CLOUD_VARIABLES_SECRET, ...backup];
  run(process.execPath, [join(ROOT, "dist/bin/ktf.js"), "install", ...installArgs], "installing ktf");
  project.provide("installArgs", installArgs);
  project.provide("kubeconfig", kubeconfig);
  project.provide("image", image);
  project.provide("kubectl", env.KUBECTL ?? "kubectl");
  project.provide("stores", stores);
  project.provide("stockApi", stockApi);
  project.provide("nodeIp", env.NODE_IP ?? "");
  project.provide("providerMirrorDir", providerMirrorDir);
  project.provide("otf", otf);
  return () => {
    const keep = Boolean(process.env.KTF_KEEP_CLUSTER);
    if (!storesWereUp && !keep) run("scripts/object-stores.sh", ["down"], "stopping the object stores");
    if (!otfWasUp && !keep) run("scripts/otf.sh", ["down"], "stopping OTF", otfEnv);
    if (!wasUp && !keep) run("scripts/cluster.sh", ["down"], "stopping the cluster");
  };
}
