import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema } from "../../src/api/run.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { connectToCluster } from "../../src/kube/connect.js";
import { harness, kubectl, testNamespace, waitFor } from "../harness/cluster.js";
import { mintUser } from "../harness/users.js";
import { whileOperatorFrozen } from "../harness/operator.js";

/**
 * Admission cannot check a privileged run against a workspace that does not exist yet;
 * the operator checks the creator again, against the workspace as it is, before the run starts.
 */
describe("a privileged run created before its workspace", () => {
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  const admin = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  beforeAll(async () => {
    ns = await testNamespace("late");
  });
  afterAll(async () => {
    admin.close();
    await ns.remove();
  });

  it("does not run for a user who lacks the verb once the workspace appears", async () => {
    const mallory = await mintUser("mallory-late");
    await kubectl(["-n", ns.name, "create", "rolebinding", "mallory-ktf", "--clusterrole=ktf-user", "--user=mallory-late"]);
    // No workspace in the namespace yet: admission has nothing to check the run against. The
    // workspace appears before the operator looks at the run (frozen meanwhile, so the order is sure).
    // Claimed as ktf claims it (a stock API server fills in nothing).
    const CLAIM = { "ktf.dev/created-by": "mallory-late", "ktf.dev/created-by-groups": "system:authenticated" };
    const run = JSON.stringify({ apiVersion: "ktf.dev/v1alpha1", kind: "Run", metadata: { name: "sneaky-apply", namespace: ns.name, annotations: CLAIM }, spec: { workspace: "later", command: "apply", args: ["-auto-approve"] } });
    await whileOperatorFrozen(async () => {
      await kubectl(["create", "-f", "-"], { input: run, kubeconfig: mallory });
      await admin.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "later", namespace: ns.name }, spec: {} });
    });
    const ended = await waitFor(async () => {
      const r = runSchema.parse(await admin.get(RESOURCES.Run, ns.name, "sneaky-apply"));
      return r.status?.phase === "Failed" ? r : undefined;
    }, 60_000, "the run to fail");
    const complete = ended.status?.conditions?.find((c) => c.type === "Complete");
    expect(complete?.reason).toBe("Forbidden");
    expect(complete?.message).toMatch(/user mallory-late may not run apply in workspace later: it needs the RBAC verb "apply"/);
    expect(ended.status?.podName).toBeUndefined();
    expect(await admin.get(RESOURCES.Pod, ns.name, "sneaky-apply")).toBeUndefined();
  });
});
