import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { ApplyOnce } from "./apply-once.js";

describe("ApplyOnce", () => {
  const object = (data: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "ns" }, data: { data } });
  function counting() {
    const sent: KubeObject[] = [];
    const client = { apply: (o: KubeObject) => (sent.push(o), Promise.resolve(o)) } as unknown as KubeClient;
    return { client, sent };
  }

  it("sends an unchanged object once per ttl, a changed one at once", async () => {
    let clock = 0;
    const memo = new ApplyOnce(1000, () => clock);
    const { client, sent } = counting();
    await memo.apply(client, object("a"));
    await memo.apply(client, object("a"));
    expect(sent).toHaveLength(1);
    await memo.apply(client, object("b"));
    expect(sent).toHaveLength(2);
    clock = 1500;
    await memo.apply(client, object("b"));
    expect(sent).toHaveLength(3);
    memo.forget(object("b"));
    await memo.apply(client, object("b"));
    expect(sent).toHaveLength(4);
  });

  it("sends again after a failed apply", async () => {
    const memo = new ApplyOnce(1000);
    let fail = true;
    const sent: KubeObject[] = [];
    const client = { apply: (o: KubeObject) => (fail ? Promise.reject(new Error("refused")) : (sent.push(o), Promise.resolve(o))) } as unknown as KubeClient;
    await expect(memo.apply(client, object("a"))).rejects.toThrow("refused");
    fail = false;
    await memo.apply(client, object("a"));
    expect(sent).toHaveLength(1);
  });
});
