import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import type { KubeObject } from "../../src/kube/client.js";
import { harness, kubectl, waitFor } from "../harness/cluster.js";
import { workspaceFixture } from "../harness/workspace.js";

type Ws = KubeObject & { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };

/** The operator restarted with a wrong S3 secret key, then with the right one again. */
async function operatorWithS3Secret(secret: string): Promise<void> {
  await kubectl(["-n", "ktf-system", "patch", "secret", "ktf-backup", "--type=merge", "-p", JSON.stringify({ stringData: { AWS_SECRET_ACCESS_KEY: secret } })]);
  await kubectl(["-n", "ktf-system", "rollout", "restart", "deployment/ktf-operator"]);
  await kubectl(["-n", "ktf-system", "rollout", "status", "deployment/ktf-operator", "--timeout=120s"]);
}

describe("a backup store that refuses the operator's credentials", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  const backedUp = async () => (await w.client.get<Ws>(RESOURCES.Workspace, w.ns, "main"))?.status?.conditions?.find((c) => c.type === "BackedUp");
  beforeAll(async () => {
    w = await workspaceFixture("backupfail", { "main.tf": 'resource "terraform_data" "x" {\n  input = "x"\n}\n' });
    await operatorWithS3Secret("not-the-secret-key");
  });
  afterAll(async () => {
    await operatorWithS3Secret(harness().stores.S3_SECRET_KEY ?? "");
    await w.cleanup();
  });

  it("shows a failed BackedUp condition and an event, and runs go on", async () => {
    const apply = await w.ktf(["apply", "-auto-approve"]);
    expect(apply.code, apply.stderr).toBe(0);
    const failed = await waitFor(async () => {
      const c = await backedUp();
      return c?.reason === "BackupFailed" ? c : undefined;
    }, 60_000, "BackedUp=False");
    expect(failed.status).toBe("False");
    expect(failed.message).toMatch(/copying to s3:\/\/ktf-backups\/e2e failed: .*(signature|Signature)/);
    expect(failed.message).not.toContain("not-the-secret-key");
    const events = await kubectl(["-n", w.ns, "get", "events", "--field-selector", "reason=BackupFailed", "-o", "jsonpath={.items[*].message}"]);
    expect(events).toMatch(/copying to s3:\/\/ktf-backups\/e2e failed/);
    // Runs are not held up by it.
    const plan = await w.ktf(["plan"]);
    expect(plan.code).toBe(0);
  });
});
