import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    image: string;
    kubectl: string;
  }
}

const ROOT = join(new URL("../..", import.meta.url).pathname);

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}): ${command} ${args.join(" ")}`);
  return result.stdout;
}

function clusterEnv(): Record<string, string> {
  return Object.fromEntries(
    run("scripts/cluster.sh", ["env"], "reading the cluster's paths")
      .trim()
      .split("\n")
      .map((l) => l.split("=", 2) as [string, string]),
  );
}

/**
 * Once per test run: the real cluster (started, or reused when already up), the ktf image
 * built from this checkout and loaded into the cluster, and ktf installed with it.
 * A cluster this setup started is stopped at the end unless KTF_KEEP_CLUSTER is set.
 */
export default function setup(project: TestProject): () => void {
  const wasUp = spawnSync("scripts/cluster.sh", ["status"], { cwd: ROOT }).status === 0;
  run("scripts/cluster.sh", ["up"], "starting the cluster");
  const env = clusterEnv();
  const kubeconfig = env.KUBECONFIG ?? "";
  run("npm", ["run", "--silent", "build"], "building ktf");
  const image = run("scripts/build-images.sh", ["ktf"], "building the ktf image").trim().split("\n").pop() ?? "";
  run("scripts/load-images.sh", [image], "loading the ktf image");
  run(process.execPath, [join(ROOT, "dist/bin/ktf.js"), "install", "--kubeconfig", kubeconfig, "--image", image, "--start-timeout", "20"], "installing ktf");
  project.provide("kubeconfig", kubeconfig);
  project.provide("image", image);
  project.provide("kubectl", env.KUBECTL ?? "kubectl");
  return () => {
    if (!wasUp && !process.env.KTF_KEEP_CLUSTER) run("scripts/cluster.sh", ["down"], "stopping the cluster");
  };
}
