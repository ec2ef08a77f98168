import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/client.js";
import { connectToCluster } from "../../src/kube/connect.js";
import { HttpKubeClient } from "../../src/kube/http-client.js";
import { Informer } from "../../src/kube/informer.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { silentLogger } from "../../src/log.js";
import { harness, testNamespace, waitFor } from "../harness/cluster.js";

/** A TCP proxy in front of the API server whose connections the test can cut. */
async function cuttableProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    cut: (refuse: boolean) => {
      refusing = refuse;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("an informer", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const admin = connectToCluster({ kubeconfig: harness().kubeconfig });
  beforeAll(async () => {
    ns = await testNamespace("informer");
  });
  afterAll(async () => {
    admin.client.close();
    await ns.remove();
  });

  it("survives dropped connections and delivers what changed while it was away, deletions included", async () => {
    const proxy = await cuttableProxy(new URL(admin.credentials.server));
    const client = new HttpKubeClient({ ...admin.credentials, server: `https://127.0.0.1:${proxy.port}` }, ns.name);
    const seen = new Map<string, string>();
    const deleted: string[] = [];
    const informer = new Informer<KubeObject & { data?: Record<string, string> }>(client, RESOURCES.ConfigMap, {
      namespace: ns.name,
      labelSelector: "test=informer",
      log: silentLogger(),
      maxBackoffMs: 500,
    }).on({
      upsert: (o) => seen.set(o.metadata.name ?? "", o.data?.v ?? ""),
      delete: (o) => deleted.push(o.metadata.name ?? ""),
    });
    const cm = (name: string, v: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns.name, labels: { test: "informer" } }, data: { v } });
    try {
      await admin.client.create(cm("a", "1"));
      await informer.start();
      expect(seen.get("a")).toBe("1");

      await admin.client.create(cm("b", "1"));
      await waitFor(() => seen.get("b") === "1", 10_000, "a watch event");

      // Cut the watch and keep it cut while things change.
      proxy.cut(true);
      await admin.client.delete(RESOURCES.ConfigMap, ns.name, "a");
      await admin.client.patch(RESOURCES.ConfigMap, ns.name, "b", { data: { v: "2" } });
      await new Promise((r) => setTimeout(r, 1000));
      expect(deleted).toEqual([]);
      proxy.cut(false);

      await waitFor(() => deleted.includes("a") && seen.get("b") === "2", 20_000, "the informer to catch up");
      expect(informer.get(ns.name, "a")).toBeUndefined();
    } finally {
      await informer.stop();
      client.close();
      await proxy.close();
    }
  });
});
