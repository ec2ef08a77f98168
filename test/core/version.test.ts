import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KTF_VERSION } from "../../src/version.js";
import { harness, kubectl } from "../harness/cluster.js";
import { mintUser } from "../harness/users.js";
import { HELLO, workspaceFixture } from "../harness/workspace.js";

describe("ktf version", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("version", { "main.tf": HELLO });
    const pinned = await w.ktf(["workspace", "new", "pinned", "-n", w.ns, "--engine", "terraform", "--engine-version", "1.5.7", "--no-select"]);
    expect(pinned.code, pinned.stderr).toBe(0);
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("shows this ktf's version, the operator's read from the cluster, and the selected workspace's engine", async () => {
    const r = await w.ktf(["version"]);
    expect(r.code, r.stderr).toBe(0);
    const image = harness().image;
    expect(r.stdout).toBe(
      `ktf:       ${KTF_VERSION}\n` +
        `operator:  ${KTF_VERSION} (deployment ktf-system/ktf-operator, image ${image})\n` +
        `engine:    tofu, the version in run image ${image} (workspace ${w.ns}/main pins none)\n`,
    );
    // The operator was installed by this very ktf: no warning.
    expect(r.stderr).toBe("");
  });

  it("shows the version a workspace pins, as JSON too", async () => {
    const text = await w.ktf(["version", "-w", "pinned"]);
    expect(text.stdout).toContain(`engine:    terraform 1.5.7 (workspace ${w.ns}/pinned)\n`);
    const json = await w.ktf(["version", "-json", "--workspace", "pinned"]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ktf: { version: KTF_VERSION },
      operator: { namespace: "ktf-system", version: KTF_VERSION, image: harness().image },
      engine: { namespace: w.ns, workspace: "pinned", name: "terraform", version: "1.5.7" },
    });
  });

  it("says so where the operator is not in the namespace asked", async () => {
    const r = await w.ktf(["version", "--operator-namespace", w.ns]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`operator:  unknown: ktf is not installed in the cluster at \\S+ \\(context [^)]+\\): no deployment ktf-operator in namespace ${w.ns}`));
  });

  it("tells a viewer, who may not read the operator's Deployment, the version its workspace reports, and exits 0", async () => {
    const user = `version-${w.ns}`;
    const kubeconfig = await mintUser(user);
    await kubectl(["-n", w.ns, "create", "rolebinding", `${user}-viewer`, "--clusterrole=ktf-viewer", `--user=${user}`]);
    const r = await w.ktf(["version"], { kubeconfig });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ktf:       ${KTF_VERSION}\n`);
    expect(r.stdout).toContain(`operator:  ${KTF_VERSION} (as workspace ${w.ns}/main reports it: the operator's Deployment is not readable)\n`);
    expect(r.stdout).toContain(`engine:    tofu, the version in the run image (workspace ${w.ns}/main pins none)\n`);
  });

  it("still shows its own version when the cluster does not answer, and exits 0", async () => {
    const kubeconfig = join(w.dir, "dead.kubeconfig");
    await writeFile(
      kubeconfig,
      "apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n",
    );
    const r = await w.ktf(["version"], { kubeconfig });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ktf:       ${KTF_VERSION}\n`);
    expect(r.stdout).toMatch(/operator: {2}unknown: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED/);
    expect(r.stdout).toMatch(/engine: {4}unknown: cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED/);
  });
});
