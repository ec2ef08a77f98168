import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, ktf } from "../harness/cluster.js";
import { configDir, HELLO, workspaceFixture } from "../harness/workspace.js";

describe("bad input gets one clear line and creates nothing", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("badinput", { "main.tf": HELLO });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it.each([
    ["no workspace selected", async () => {
      const dir = await configDir({ "main.tf": HELLO });
      const r = await ktf(["plan", "-n", w.ns], { cwd: dir.dir });
      await dir.remove();
      return r;
    }, /no workspace selected for this directory: run `ktf workspace select NAME`/],
    ["a workspace that does not exist", () => w.ktf(["plan", "--workspace", "nope"]), /workspace nope does not exist in namespace .*: create it with `ktf workspace new nope`/],
    ["an unknown command", () => w.ktf(["frobnicate"]), /unknown command 'frobnicate'/],
    ["a configuration directory that does not exist", () => w.ktf(["plan", "-chdir=/no/such/dir"]), /configuration directory \/no\/such\/dir does not exist/],
    ["a directory without configuration", () => w.ktf(["plan", "-chdir=/tmp"]), /no terraform configuration in \/tmp/],
    ["a field of the wrong type", () => w.ktf(["workspace", "new", "other", "--cache-size", "lots"]), /spec.cache.size: expected a quantity such as 1Gi or 500m/],
    ["an engine ktf does not know", () => w.ktf(["workspace", "new", "other", "--engine", "pulumi"]), /spec.engine.name: expected one of "tofu"\|"terraform"/],
  ])("%s", async (_what, act, message) => {
    const r = await act();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(r.stderr.includes("(run ktf --help") ? 2 : 1);
    expect(await w.runs()).toHaveLength(0);
  });

  it("names the cluster that does not answer", async () => {
    const kubeconfig = join(w.dir, "dead.kubeconfig");
    await writeFile(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n",
    );
    const r = await w.ktf(["plan"], { kubeconfig });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the Kubernetes API at https:\/\/127.0.0.1:1 \(ECONNREFUSED/);
    expect(r.stderr).toContain("is the cluster up, and is this the right --context/--kubeconfig?");
  });

  it("rejects a Run with a field of the wrong type at the API, whoever creates it", async () => {
    const err = await kubectl(["apply", "-f", "-"], {
      input: `apiVersion: ktf.dev/v1alpha1\nkind: Run\nmetadata: {name: bad, namespace: ${w.ns}}\nspec: {workspace: main, command: plan, args: "-var x=1"}\n`,
    }).catch((e: Error) => e.message);
    // Schema validation ("must be of type array"), or the mutating policy that runs first ("expected list").
    expect(err).toMatch(/spec\.args(: Invalid value: "string": spec\.args in body must be of type array|: expected list)/);
    expect(await w.runs()).toHaveLength(0);
  });
});
