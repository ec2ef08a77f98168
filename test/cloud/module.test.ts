import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema, type Run } from "../../src/api/run.js";
import { workspaceSchema, type Workspace } from "../../src/api/workspace.js";
import { packConfiguration } from "../../src/archive/pack.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { otfNamespace, otfWorld } from "../harness/cloud.js";
import { kubectl, testNamespace, waitFor } from "../harness/cluster.js";
import { mayReadSecret, workspaceEditor } from "../harness/users.js";
import { configDir } from "../harness/workspace.js";

const MODULE_TF = `
variable "name" {}
resource "terraform_data" "x" {
  input = "hello \${var.name}"
}
output "greeting" {
  value = terraform_data.x.output
}
`;

/**
 * Module workspaces (terraform-k8s's way): the operator runs a call of spec.module in TFC (OTF)
 * whenever the module, a variable or the run-requested annotation changes. The module is a
 * tarball served over HTTP on this machine, where OTF's engine runs.
 */
describe("a module workspace in Terraform Cloud (OTF)", () => {
  const world = otfWorld("ktf-mod");
  const { tfc, kube } = world;
  let ns: Awaited<ReturnType<typeof testNamespace>>;
  let server: Server;
  let source = "";

  const workspace = (name: string, applyMethod: string, variableName: string) => ({
    apiVersion: "ktf.dev/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: ns.name },
    spec: {
      cloud: world.cloud({ applyMethod }),
      module: { source, outputs: [{ name: "greeting" }] },
      variables: [{ name: "name", value: variableName }],
    },
  });
  const read = async (name: string): Promise<Workspace> => workspaceSchema.parse(await kube.get(RESOURCES.Workspace, ns.name, name));
  const readRun = async (name: string): Promise<Run> => runSchema.parse(await kube.get(RESOURCES.Run, ns.name, name));
  /** The module run started after `previous`, once it has ended. */
  const nextRun = async (ws: string, previous?: string): Promise<Run> => {
    const name = await waitFor(async () => {
      const run = (await read(ws)).status?.cloud?.module?.run;
      return run && run !== previous ? run : undefined;
    }, 60_000, `a module run of ${ws}`);
    return waitFor(async () => {
      const run = await readRun(name);
      return run.status?.phase === "Succeeded" || run.status?.phase === "Failed" ? run : undefined;
    }, 120_000, `run ${name} ended`);
  };
  const greeting = (ws: string, expected: string) =>
    waitFor(async () => (await read(ws)).status?.outputs?.find((o) => o.name === "greeting" && o.value === JSON.stringify(expected)), 60_000, `greeting ${expected}`);

  beforeAll(async () => {
    const module = await configDir({ "main.tf": MODULE_TF });
    const packed = await packConfiguration(module.dir);
    await module.remove();
    server = createServer((req, res) => {
      if (req.url?.startsWith("/network.tgz")) res.writeHead(200, { "Content-Type": "application/gzip" }).end(packed.bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    source = `http://127.0.0.1:${(server.address() as AddressInfo).port}/network.tgz`;
    ns = await otfNamespace(world, "cloud-mod");
  });
  afterAll(async () => {
    kube.close();
    await ns?.remove();
    server?.closeAllConnections();
    await new Promise((ok) => server?.close(ok));
  });

  it("applies the module when the Workspace is made, again when a variable changes, and when asked by annotation", async () => {
    await kube.create(workspace("net", "auto", "a"));
    const first = await nextRun("net");
    expect(first.spec).toMatchObject({ command: "apply", savePlan: false });
    expect(first.status?.phase, JSON.stringify(first.status?.conditions)).toBe("Succeeded");
    expect(first.status?.createdBy?.username).toMatch(/^system:serviceaccount:ktf-system:/);
    await greeting("net", "hello a");

    await kube.patch(RESOURCES.Workspace, ns.name, "net", { spec: { variables: [{ name: "name", value: "b" }] } });
    const second = await nextRun("net", first.metadata.name);
    expect(second.status?.phase).toBe("Succeeded");
    await greeting("net", "hello b");

    await kubectl(["-n", ns.name, "annotate", "workspace", "net", "ktf.dev/run-requested=1"]);
    const third = await nextRun("net", second.metadata.name);
    expect(third.status?.phase).toBe("Succeeded");
    // Nothing changed in between: no more runs than asked for.
    expect((await kube.list(RESOURCES.Run, ns.name)).items).toHaveLength(3);
  });

  it("with applyMethod manual plans and keeps the plan; a newer change discards it in TFC", async () => {
    await kube.create(workspace("manual", "manual", "a"));
    const plan = await nextRun("manual");
    expect(plan.spec).toMatchObject({ command: "plan", savePlan: true });
    expect(plan.status).toMatchObject({ phase: "Succeeded", plan: { add: 1 } });
    expect((await tfc.runs.get(plan.status?.cloud?.runId ?? "")).status).toBe("planned");

    await kube.patch(RESOURCES.Workspace, ns.name, "manual", { spec: { variables: [{ name: "name", value: "c" }] } });
    const next = await nextRun("manual", plan.metadata.name);
    expect(next.status?.phase).toBe("Succeeded");
    await waitFor(async () => (await tfc.runs.get(plan.status?.cloud?.runId ?? "")).status === "discarded", 60_000, "the older plan discarded");
  });

  it("refuses a change that would be applied to a user without the apply verb", async () => {
    const asWendy = await workspaceEditor(ns.name, "wendy-mod", "get,list,create,update,patch");
    // Her workspaces name the token Secret: that needs reading it (admission).
    await mayReadSecret(ns.name, "wendy-mod", "tfc-token");
    try {
      await expect(asWendy.patch(RESOURCES.Workspace, ns.name, "net", { spec: { variables: [{ name: "name", value: "mallory" }] } })).rejects.toThrow(
        /user wendy-mod may not change spec.module, its variables or applyMethod of workspace net: .*needs the RBAC verb "apply"/,
      );
      await expect(asWendy.create(workspace("wendys", "auto", "x"))).rejects.toThrow(/needs the RBAC verb "apply"/);
      // A plan-only module workspace is hers to make.
      await asWendy.create(workspace("wendys", "manual", "x"));
    } finally {
      asWendy.close();
    }
  });
});
