import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromKubeconfigFiles } from "./kubeconfig.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ktf-kubeconfig-"));
  await writeFile(join(dir, "ca.crt"), "CA");
  await writeFile(
    join(dir, "a.yaml"),
    `apiVersion: v1
kind: Config
current-context: a
clusters:
- name: one
  cluster: {server: "https://one:6443", certificate-authority: ca.crt}
users:
- name: alice
  user: {token: alice-token}
- name: plugin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, "plugin.sh")}, env: [{name: WHO, value: bob}]}
contexts:
- name: a
  context: {cluster: one, user: alice, namespace: team-a}
- name: p
  context: {cluster: one, user: plugin}
`,
  );
  await writeFile(
    join(dir, "b.yaml"),
    `current-context: b
clusters:
- name: one
  cluster: {server: "https://shadowed:6443"}
contexts:
- name: b
  context: {cluster: one, user: alice}
`,
  );
  await writeFile(join(dir, "plugin.sh"), '#!/bin/sh\necho "{\\"status\\":{\\"token\\":\\"$WHO-token\\"}}"\n');
  await chmod(join(dir, "plugin.sh"), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fromKubeconfigFiles", () => {
  it("reads the current context, with files relative to the kubeconfig", async () => {
    const c = fromKubeconfigFiles([join(dir, "a.yaml")]);
    expect(c).toMatchObject({ server: "https://one:6443", contextName: "a", namespace: "team-a" });
    expect(c.ca?.toString()).toBe("CA");
    expect(await c.authorization()).toBe("Bearer alice-token");
  });

  it("merges files as kubectl does: the first definition and current-context win", () => {
    const c = fromKubeconfigFiles([join(dir, "a.yaml"), join(dir, "b.yaml")]);
    expect(c.contextName).toBe("a");
    expect(fromKubeconfigFiles([join(dir, "a.yaml"), join(dir, "b.yaml")], "b").server).toBe("https://one:6443");
  });

  it("runs exec credential plugins", async () => {
    expect(await fromKubeconfigFiles([join(dir, "a.yaml")], "p").authorization()).toBe("Bearer bob-token");
  });

  it("names the contexts it has when asked for another", () => {
    expect(() => fromKubeconfigFiles([join(dir, "a.yaml")], "nope")).toThrow("context nope is not in the kubeconfig (it has: a, p)");
    expect(() => fromKubeconfigFiles([join(dir, "missing.yaml")])).toThrow(/missing.yaml does not exist/);
  });
});
