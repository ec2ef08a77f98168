import { readFile } from "node:fs/promises";
import type { HttpKubeClient } from "../../src/kube/http-client.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { harness } from "./cluster.js";
import { ObjectServer } from "./object-server.js";
import { mirrorCliConfig, ProviderMirror } from "./provider-mirror.js";

/** A configuration that uses the test provider, as from a registry. */
export const KTFTEST_REQUIRED = `terraform {
  required_providers {
    ktftest = { source = "registry.ktf.dev/ktf/ktftest", version = "0.1.0" }
  }
}
`;

/**
 * The test provider for a workspace's runs, as an enterprise offers providers: its mirror
 * over HTTPS on the node's address, with a CA of its own, named by a CLI configuration Secret
 * (config.tfrc and ca.crt) that the workspace uses; and the object server its ktftest_object
 * talks to (KTFTEST_ENDPOINT in the workspace's env). `stop` stops both servers.
 */
export async function providerFixture(w: { client: HttpKubeClient; ns: string }, workspace = "main") {
  const h = harness();
  const mirror = new ProviderMirror({ dir: h.providerMirrorDir, host: h.nodeIp });
  const objects = new ObjectServer({ host: h.nodeIp });
  await mirror.start();
  await objects.start();
  await w.client.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "engine-config", namespace: w.ns },
    stringData: { "config.tfrc": mirrorCliConfig(mirror.url), "ca.crt": await readFile(mirror.caFile, "utf8") },
  });
  await w.client.patch(RESOURCES.Workspace, w.ns, workspace, {
    spec: { cliConfig: { secretName: "engine-config" }, env: [{ name: "KTFTEST_ENDPOINT", value: objects.url }] },
  });
  return {
    mirror,
    objects,
    async stop() {
      await mirror.stop();
      await objects.stop();
    },
  };
}
