import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { GITHUB_RECEIVER } from "../../src/api/group.js";
import { APP_SECRET_KEYS } from "../../src/github/app-secret.js";
import { signPayload } from "../../src/github/signature.js";
import { installManifests } from "../../src/install/manifests.js";
import { connectToCluster } from "../../src/kube/connect.js";
import type { FakeGitHub } from "./fake-github.js";
import { harness, KTF_BIN, kubectl } from "./cluster.js";

const NAMESPACE = "ktf-system";

/**
 * `ktf github serve` as this checkout builds it, on this machine, as the receiver's own
 * ServiceAccount (ktf-github, with exactly the RBAC `ktf install --github-app` gives it),
 * talking to the fake GitHub. Deliveries are signed with the App's webhook secret.
 */
export async function startReceiver(github: FakeGitHub): Promise<{ url: string; deliver: (event: string, payload: unknown, options?: { delivery?: string; signature?: string }) => Promise<number>; logs: () => string; stop: () => Promise<void>; kill: () => Promise<void> }> {
  const h = harness();
  const kube = connectToCluster({ kubeconfig: h.kubeconfig }).client;
  try {
    for (const o of installManifests({ githubApp: "ktf-github-app", namespace: NAMESPACE })) {
      if (o.metadata.name?.startsWith(GITHUB_RECEIVER) && ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"].includes(o.kind)) await kube.apply(o, { force: true });
    }
  } finally {
    kube.close();
  }
  const dir = await mkdtemp(join(tmpdir(), "ktf-github-"));
  const webhookSecret = randomBytes(16).toString("hex");
  await writeFile(join(dir, APP_SECRET_KEYS.appId), String(github.appId));
  await writeFile(join(dir, APP_SECRET_KEYS.privateKey), github.privateKey);
  await writeFile(join(dir, APP_SECRET_KEYS.webhookSecret), webhookSecret);
  await writeFile(join(dir, "kubeconfig"), await serviceAccountKubeconfig(h.kubeconfig));

  const child: ChildProcess = spawn(process.execPath, [KTF_BIN, "github", "serve", "--kubeconfig", join(dir, "kubeconfig"), "--namespace", NAMESPACE, "--port", "0", "--address", "127.0.0.1", "--app-dir", dir, "--github-api-url", github.url], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KTF_LOG_LEVEL: "debug" },
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ktf github serve did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const serving = output.split("\n").find((l) => l.includes("Serving GitHub webhooks"));
      if (serving) {
        clearTimeout(timer);
        resolve((JSON.parse(serving) as { port: number }).port);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`ktf github serve exited with ${code}:\n${output}`)));
  });
  const url = `http://127.0.0.1:${port}/`;
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  return {
    url,
    logs: () => output,
    deliver: async (event, payload, options = {}) => {
      const body = JSON.stringify(payload);
      const signature = options.signature ?? signPayload(webhookSecret, Buffer.from(body));
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-GitHub-Event": event,
          "X-GitHub-Delivery": options.delivery ?? randomUUID(),
          // "" sends none.
          ...(signature ? { "X-Hub-Signature-256": signature } : {}),
        },
        body,
      });
      await res.arrayBuffer();
      return res.status;
    },
    stop: () => end("SIGTERM"),
    /** As a crash: nothing finished, nothing said. */
    kill: () => end("SIGKILL"),
  };
}

/** A kubeconfig that is the receiver's ServiceAccount: the admin's cluster, a token of ktf-github. */
async function serviceAccountKubeconfig(adminKubeconfig: string): Promise<string> {
  const token = (await kubectl(["-n", NAMESPACE, "create", "token", GITHUB_RECEIVER, "--duration=2h"])).trim();
  const admin = parseYaml(await readFile(adminKubeconfig, "utf8")) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  const cluster = admin.clusters[0];
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: cluster?.cluster }],
    users: [{ name: GITHUB_RECEIVER, user: { token } }],
    contexts: [{ name: "receiver", context: { cluster: "local", user: GITHUB_RECEIVER, namespace: NAMESPACE } }],
    "current-context": "receiver",
  });
}
