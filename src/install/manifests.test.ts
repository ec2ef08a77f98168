import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/client.js";
import { installManifests, OPERATOR_NAME } from "./manifests.js";

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const rulesOf = (objects: KubeObject[], name: string) => ((objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === name) as { rules?: Rule[] } | undefined)?.rules ?? []);
const bindings = (objects: KubeObject[]) => objects.filter((o) => o.kind.endsWith("RoleBinding")).map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);

describe("the operator's RBAC", () => {
  it("grants only verbs the controllers use: no deletecollection, ConfigMaps read (a cloud variable's value) and applied (outputs) but never listed, no logs", () => {
    const rules = rulesOf(installManifests(), OPERATOR_NAME);
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.flatMap((r) => r.verbs)).not.toContain("deletecollection");
    expect(rules.filter((r) => r.resources.includes("configmaps")).flatMap((r) => r.verbs)).toEqual(["get", "create", "patch"]);
    expect(rules.flatMap((r) => r.resources)).not.toContain("pods/log");
    // Of the privileged verbs only apply: for the runs of auto-applied module workspaces, whose changes need it at admission.
    expect(rules.filter((r) => r.apiGroups.includes("ktf.dev") && r.resources.includes("workspaces")).flatMap((r) => r.verbs)).toEqual(["get", "list", "watch", "patch", "apply"]);
  });

  it("is bound cluster-wide when the operator watches every namespace", () => {
    expect(bindings(installManifests())).toEqual(["ClusterRoleBinding//ktf-operator", "ClusterRoleBinding//ktf-operator-cluster"]);
  });

  it("is bound in the watched namespaces (and the operator's own) with --watch-namespaces; only SubjectAccessReviews cluster-wide", () => {
    const objects = installManifests({ watchNamespaces: ["team-a", "team-b"] });
    expect(bindings(objects)).toEqual([
      "RoleBinding/ktf-system/ktf-operator",
      "RoleBinding/team-a/ktf-operator",
      "RoleBinding/team-b/ktf-operator",
      "ClusterRoleBinding//ktf-operator-cluster",
    ]);
    expect(rulesOf(objects, "ktf-operator-cluster")).toEqual([{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }]);
  });
});

describe("the user role", () => {
  it("may not update runs (only patch their cancel) nor attach to every pod", () => {
    const rules = rulesOf(installManifests(), "ktf-user");
    const onRuns = rules.filter((r) => r.resources.includes("runs")).flatMap((r) => r.verbs);
    expect(onRuns).toContain("patch");
    expect(onRuns).not.toContain("update");
    expect(rules.flatMap((r) => r.resources)).not.toContain("pods/attach");
  });
});

describe("--cloud-credentials", () => {
  it("mounts the Secret's credentials.tfrc for the operator alone, as TF_CLI_CONFIG_FILE", () => {
    const deployment = installManifests({ cloudCredentials: "tfc" }).find((o) => o.kind === "Deployment") as unknown as {
      spec: { template: { spec: { volumes: { name: string; secret?: { secretName: string; items: { key: string }[] } }[]; containers: { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.volumes.find((v) => v.name === "cloud-credentials")?.secret).toEqual({ secretName: "tfc", items: [{ key: "credentials.tfrc", path: "credentials.tfrc" }] });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: "cloud-credentials", mountPath: "/var/run/secrets/ktf/cloud", readOnly: true });
    expect(pod.containers[0]?.env).toContainEqual({ name: "TF_CLI_CONFIG_FILE", value: "/var/run/secrets/ktf/cloud/credentials.tfrc" });
    expect(JSON.stringify(installManifests().find((o) => o.kind === "Deployment"))).not.toMatch(/cloud-credentials|TF_CLI_CONFIG_FILE/);
  });
});

describe("--cloud-variables", () => {
  it("mounts the whole Secret into the operator alone, its directory in KTF_CLOUD_VARIABLES_DIR", () => {
    const deployment = installManifests({ cloudVariables: "tfc-vars" }).find((o) => o.kind === "Deployment") as unknown as {
      spec: { template: { spec: { volumes: { name: string; secret?: unknown }[]; containers: { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[] } } };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.volumes.find((v) => v.name === "cloud-variables")?.secret).toEqual({ secretName: "tfc-vars", optional: true });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: "cloud-variables", mountPath: "/var/run/secrets/ktf/cloud-variables", readOnly: true });
    expect(pod.containers[0]?.env).toContainEqual({ name: "KTF_CLOUD_VARIABLES_DIR", value: "/var/run/secrets/ktf/cloud-variables" });
    expect(JSON.stringify(installManifests().find((o) => o.kind === "Deployment"))).not.toMatch(/cloud-variables/);
  });
});
