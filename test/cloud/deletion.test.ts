import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceSchema, type Workspace } from "../../src/api/workspace.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { otfNamespace, otfWorld } from "../harness/cloud.js";
import { ktf, kubectl, testNamespace, waitFor } from "../harness/cluster.js";
import { mayReadSecret, workspaceEditor } from "../harness/users.js";
import { configDir } from "../harness/workspace.js";

/**
 * Deleting a Workspace synced to TFC (OTF) does what its deletionPolicy says to the TFC
 * workspace, read back through OTF's API; one that cannot be carried out is reported and can be let go.
 */
describe("deleting a Terraform Cloud workspace (OTF)", () => {
  const world = otfWorld("ktf-del");
  const { tfc, kube } = world;
  let ns: Awaited<ReturnType<typeof testNamespace>>;

  const cloudWorkspace = (name: string, deletionPolicy?: string) => ({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: ns.name },
    spec: {
      cloud: world.cloud(deletionPolicy ? { deletionPolicy } : {}),
    },
  });
  const read = async (name: string): Promise<Workspace | undefined> => {
    const raw = await kube.get(RESOURCES.Workspace, ns.name, name);
    return raw ? workspaceSchema.parse(raw) : undefined;
  };
  /** Creates the Workspace and waits until its TFC workspace exists (and its finalizer is on). */
  const synced = async (name: string, deletionPolicy?: string): Promise<string> => {
    await kube.create(cloudWorkspace(name, deletionPolicy));
    const ws = await waitFor(async () => {
      const now = await read(name);
      const ok = now?.status?.conditions?.some((c) => c.type === "Ready" && c.reason === "CloudSynced");
      return ok && (!deletionPolicy || deletionPolicy === "retain" || now?.metadata.finalizers?.length) ? now : undefined;
    }, 60_000, `workspace ${name} synced`);
    return ws.status?.cloud?.workspaceId ?? "";
  };
  const gone = (name: string) => waitFor(async () => !(await read(name)), 90_000, `workspace ${name} deleted`);
  const tfcWorkspace = async (id: string) => tfc.workspaces.get(id).then(() => true, () => false);

  beforeAll(async () => {
    ns = await otfNamespace(world, "cloud-del");
  });
  afterAll(async () => {
    kube.close();
    await ns.remove();
  });

  it("retain (the default) keeps the TFC workspace", async () => {
    const id = await synced("kept");
    await kube.delete(RESOURCES.Workspace, ns.name, "kept");
    await gone("kept");
    expect(await tfcWorkspace(id)).toBe(true);
  });

  it("force deletes the TFC workspace", async () => {
    const id = await synced("forced", "force");
    await kube.delete(RESOURCES.Workspace, ns.name, "forced");
    await gone("forced");
    expect(await tfcWorkspace(id)).toBe(false);
  });

  it("destroy runs a destroy in TFC, then deletes the workspace", async () => {
    const id = await synced("doomed", "destroy");
    const cfg = await configDir({ "main.tf": 'resource "terraform_data" "x" {\n  input = "doomed"\n}\n' });
    try {
      const applied = await ktf(["apply", "-auto-approve", "-n", ns.name, "--workspace", "doomed"], { cwd: cfg.dir });
      expect(applied.code, applied.stderr).toBe(0);
    } finally {
      await cfg.remove();
    }
    await kube.delete(RESOURCES.Workspace, ns.name, "doomed");
    await gone("doomed");
    expect(await tfcWorkspace(id)).toBe(false);
    const events = await kubectl(["-n", ns.name, "get", "events", "--field-selector", "reason=CloudWorkspaceDeleted", "-o", "jsonpath={.items[*].message}"]);
    expect(events).toContain(`deletionPolicy destroy: deleted TFC workspace ${id}`);
  });

  it("soft on a server without safe-delete (OTF v0.1.0) is reported, not hung on, and the let-go annotation releases it", async () => {
    const id = await synced("careful", "soft");
    await kube.delete(RESOURCES.Workspace, ns.name, "careful");
    const stuck = await waitFor(async () => {
      const ws = await read("careful");
      const c = ws?.status?.conditions?.find((x) => x.type === "Ready");
      return c?.reason === "CloudDeletionFailed" ? c : undefined;
    }, 60_000, "the deletion reported");
    expect(stuck.message).toMatch(/has no safe-delete for TFC workspace .*attempt 1.*ktf.dev\/cloud-let-go=true/);
    await kubectl(["-n", ns.name, "annotate", "workspace", "careful", "ktf.dev/cloud-let-go=true"]);
    await gone("careful");
    expect(await tfcWorkspace(id)).toBe(true);
  });

  it("refuses destroy and force to a user without the destroy verb: deleting would destroy more than they may", async () => {
    const asWendy = await workspaceEditor(ns.name, "wendy");
    // Her workspaces name the token Secret: that needs reading it (admission).
    await mayReadSecret(ns.name, "wendy", "tfc-token");
    try {
      await expect(asWendy.create(cloudWorkspace("wendys", "destroy"))).rejects.toThrow(/user wendy may not set spec.cloud.deletionPolicy to destroy: .*needs the RBAC verb "destroy"/);
      await asWendy.create(cloudWorkspace("wendys", "soft"));
      await expect(asWendy.patch(RESOURCES.Workspace, ns.name, "wendys", { spec: { cloud: { deletionPolicy: "force" } } })).rejects.toThrow(/may not set spec.cloud.deletionPolicy to force/);
    } finally {
      asWendy.close();
    }
    // Let it go at once: OTF has no safe-delete.
    await kubectl(["-n", ns.name, "annotate", "workspace", "wendys", "ktf.dev/cloud-let-go=true"]);
  });
});
