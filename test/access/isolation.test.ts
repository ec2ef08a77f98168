import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { kubectl, waitFor } from "../harness/cluster.js";
import { mintUser } from "../harness/users.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

/** The JWT's claims, printed by the engine's own provisioner: never the token itself. */
const CONFIG = `
resource "terraform_data" "probe" {
  provisioner "local-exec" {
    command = <<-EOT
      if [ -e /var/run/secrets/kubernetes.io/serviceaccount/token ]; then echo "K8S-TOKEN-PRESENT"; else echo "NO-K8S-TOKEN"; fi
      node -e 'const p = require("fs").readFileSync("/var/run/secrets/ktf/tokens/aws/token", "utf8").split(".")[1]; const c = JSON.parse(Buffer.from(p, "base64url")); console.log("CLAIMS " + JSON.stringify({ aud: c.aud, sub: c.sub }))'
    EOT
  }
}
`;

describe("isolation", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let erin: string;
  beforeAll(async () => {
    w = await workspaceFixture("isolation", { "main.tf": CONFIG });
    // An admin sets up workload identity on the workspace (the ServiceAccount's annotation,
    // and a projected token for a cloud's STS).
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", {
      spec: {
        identity: {
          serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/ktf-main" },
          tokens: [{ audience: "sts.amazonaws.com", path: "aws", expirationSeconds: 3600 }],
        },
      },
    });
    await w.client.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "unrelated", namespace: w.ns }, stringData: { k: "v" } });
    erin = await mintUser("erin");
    await kubectl(["-n", w.ns, "create", "rolebinding", "erin-ktf", "--clusterrole=ktf-user", "--user=erin"]);
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("runs the engine without Kubernetes credentials, and with the workload identity token it asked for", async () => {
    const apply = await w.ktf(["apply", "-auto-approve"]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("NO-K8S-TOKEN");
    expect(apply.stdout).toContain(`CLAIMS {"aud":["sts.amazonaws.com"],"sub":"system:serviceaccount:${w.ns}:ktf-run-main"}`);
    const sa = await w.client.get(RESOURCES.ServiceAccount, w.ns, "ktf-run-main");
    expect(sa?.metadata.annotations?.["eks.amazonaws.com/role-arn"]).toBe("arn:aws:iam::123456789012:role/ktf-main");
  });

  it("gives a run's ServiceAccount its own workspace's state and lock, and nothing else", async () => {
    const canI = async (...args: string[]) =>
      (await kubectl(["auth", "can-i", "-n", w.ns, `--as=system:serviceaccount:${w.ns}:ktf-run-main`, ...args]).catch((e: Error) => e.message)).includes("yes");
    expect(await canI("get", "secret/tfstate-default-main")).toBe(true);
    expect(await canI("update", "secret/tfstate-default-main")).toBe(true);
    expect(await canI("update", "lease.coordination.k8s.io/lock-tfstate-default-main")).toBe(true);
    expect(await canI("get", "secret/unrelated")).toBe(false);
    expect(await canI("get", "secret/tfstate-default-other")).toBe(false);
    expect(await canI("list", "secrets")).toBe(false);
    expect(await canI("get", "configmaps")).toBe(false);
    expect(await canI("create", "pods")).toBe(false);
  });

  it("keeps state and sensitive variables from users with the user role", async () => {
    const denied = await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main"], { kubeconfig: erin }).catch((e: Error) => e.message);
    expect(denied).toMatch(/User "erin" cannot get resource "secrets"/);
    const list = await kubectl(["-n", w.ns, "get", "configmaps"], { kubeconfig: erin }).catch((e: Error) => e.message);
    expect(list).toMatch(/cannot list resource "configmaps"/);
  });

  it("lets a user upload configurations into Secrets, and create no other Secret (a token Secret least of all)", async () => {
    // A configuration no run had yet: one the workspace's runs already uploaded is reused, not uploaded.
    await writeFile(join(w.dir, "erin.txt"), "erin's own\n");
    const plan = await w.ktf(["plan"], { kubeconfig: erin });
    expect(plan.code).toBe(0);
    const run = (await w.client.list(RESOURCES.Run, w.ns)).items.find((r) => r.metadata.annotations?.["ktf.dev/created-by"] === "erin");
    const chunk = await w.client.get(RESOURCES.Secret, w.ns, `${run?.metadata.name}-cfg-0`);
    expect(chunk).toMatchObject({ type: "ktf.dev/chunk", immutable: true, metadata: { labels: { "ktf.dev/component": "archive" } } });

    const create = (yaml: string) => kubectl(["-n", w.ns, "create", "-f", "-"], { kubeconfig: erin, input: yaml }).then(() => "created", (e: Error) => e.message);
    const token = `apiVersion: v1\nkind: Secret\nmetadata: {name: stolen, annotations: {kubernetes.io/service-account.name: ktf-run-main}}\ntype: kubernetes.io/service-account-token\n`;
    expect(await create(token)).toMatch(/a ktf user may create only configuration archive chunks: type must be ktf.dev\/chunk/);
    expect(await create(`apiVersion: v1\nkind: Secret\nmetadata: {name: plain}\nstringData: {k: v}\n`)).toMatch(/type must be ktf.dev\/chunk/);
    const unowned = `apiVersion: v1\nkind: Secret\nmetadata: {name: unowned, labels: {ktf.dev/component: archive}}\ntype: ktf.dev/chunk\nimmutable: true\ndata: {chunk: eA==}\n`;
    expect(await create(unowned)).toMatch(/metadata.ownerReferences must be exactly one Run/);
    for (const name of ["stolen", "plain", "unowned"]) expect(await w.client.get(RESOURCES.Secret, w.ns, name)).toBeUndefined();
  });

  it("runs as a named ServiceAccount only when it opted in, and never with a token for the API server", async () => {
    await kubectl(["-n", w.ns, "create", "serviceaccount", "deployer"]);
    await kubectl(["-n", w.ns, "create", "rolebinding", "deployer-edit", "--clusterrole=edit", `--serviceaccount=${w.ns}:deployer`]);
    await w.client.create({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "as-deployer", namespace: w.ns }, spec: { serviceAccountName: "deployer", identity: { tokens: [{ audience: "sts.amazonaws.com", path: "aws" }] } } });
    const refused = await w.ktf(["apply", "-auto-approve", "-w", "as-deployer"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/IdentityRefused|ServiceAccount deployer has not opted in to running ktf runs: label it ktf.dev\/runner-account=true/);
    const ws = await w.client.get(RESOURCES.Workspace, w.ns, "as-deployer");
    const ready = (ws?.status as { conditions?: { type: string; status: string; reason: string }[] } | undefined)?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "IdentityRefused" });
    expect(await w.client.get(RESOURCES.RoleBinding, w.ns, "ktf-run-as-deployer")).toBeUndefined();

    await kubectl(["-n", w.ns, "label", "serviceaccount", "deployer", "ktf.dev/runner-account=true"]);
    await waitFor(async () => {
      const now = await w.client.get(RESOURCES.Workspace, w.ns, "as-deployer");
      return (now?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    }, 30_000, "the workspace to be Ready once its ServiceAccount opted in");
    const allowed = await w.ktf(["apply", "-auto-approve", "-w", "as-deployer"]);
    expect(allowed.code, allowed.stderr).toBe(0);

    const err = await kubectl(["-n", w.ns, "patch", "workspace", "main", "--type=merge", "-p", JSON.stringify({ spec: { identity: { tokens: [{ audience: "https://kubernetes.default.svc", path: "k8s" }] } } })]).catch((e: Error) => e.message);
    expect(err).toMatch(/spec.identity.tokens\[0\].audience: Invalid value: "string": expected a cloud's audience \(sts.amazonaws.com, ...\), not the Kubernetes API server's/);
  });

  it("lets a user cancel a run, and change nothing that ties it to its workspace or holds its lock", async () => {
    const plan = await w.ktf(["plan"], { kubeconfig: erin });
    expect(plan.code).toBe(0);
    const run = runNameIn(plan);
    const patch = (body: object) => kubectl(["-n", w.ns, "patch", "run", run, "--type=merge", "-p", JSON.stringify(body)], { kubeconfig: erin }).then(() => "patched", (e: Error) => e.message);
    expect(await patch({ metadata: { finalizers: ["example.com/mine"] } })).toMatch(/metadata.finalizers of a run cannot change/);
    expect(await patch({ metadata: { ownerReferences: null } })).toMatch(/metadata.ownerReferences of a run cannot change/);
    expect(await patch({ metadata: { labels: { "ktf.dev/workspace": "other" } } })).toMatch(/metadata.labels\[ktf.dev\/workspace\] of a run cannot change/);
    expect(await patch({ metadata: { labels: { "ktf.dev/archive-digest": "0".repeat(32) } } })).toMatch(/metadata.labels\[ktf.dev\/archive-digest\] of a run is set by the operator alone/);
    expect(await patch({ spec: { cancel: true } })).toBe("patched");
    const replaced = await kubectl(["-n", w.ns, "replace", "-f", "-"], { kubeconfig: erin, input: JSON.stringify(await w.client.get(RESOURCES.Run, w.ns, run)) }).catch((e: Error) => e.message);
    expect(replaced).toMatch(/User "erin" cannot update resource "runs"/);
  });

  it("lets a user attach to no pod of the namespace (console runs grant it to their creator alone)", async () => {
    const canI = async (...args: string[]) => (await kubectl(["auth", "can-i", "-n", w.ns, ...args], { kubeconfig: erin }).catch((e: Error) => e.message)).includes("yes");
    expect(await canI("create", "pods", "--subresource=attach")).toBe(false);
  });

  it("lets no workspace reference a Secret in another namespace", async () => {
    const err = await kubectl(["apply", "--validate=strict", "-f", "-"], {
      input: `apiVersion: ktf.dev/v1alpha1\nkind: Workspace\nmetadata: {name: leaky, namespace: ${w.ns}}\nspec:\n  variables:\n  - name: x\n    valueFrom: {secretKeyRef: {name: s, key: k, namespace: kube-system}}\n`,
    }).catch((e: Error) => e.message);
    expect(err).toMatch(/unknown field "spec.variables\[0\].valueFrom.secretKeyRef.namespace"/);
    expect(await w.client.get(RESOURCES.Workspace, w.ns, "leaky")).toBeUndefined();
  });

  it("enforces the restricted Pod Security Standard where the runs ran", async () => {
    const ns = await w.client.get(RESOURCES.Namespace, undefined, w.ns);
    expect(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const err = await w.client
      .create({ apiVersion: "v1", kind: "Pod", metadata: { name: "loose", namespace: w.ns }, spec: { containers: [{ name: "c", image: "x" }] } })
      .catch((e: Error) => e.message);
    expect(err).toMatch(/violates PodSecurity "restricted:latest"/);
    const operatorNs = await w.client.get(RESOURCES.Namespace, undefined, "ktf-system");
    expect(operatorNs?.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });
});
