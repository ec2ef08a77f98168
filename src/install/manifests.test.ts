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
    expect(bindings(installManifests())).toEqual(["ClusterRoleBinding//ktf-operator", "ClusterRoleBinding//ktf-operator-cluster", "RoleBinding/ktf-system/ktf-operator-members"]);
  });

  it("is bound in the watched namespaces (and the operator's own) with --watch-namespaces; only SubjectAccessReviews cluster-wide", () => {
    const objects = installManifests({ watchNamespaces: ["team-a", "team-b"] });
    expect(bindings(objects)).toEqual([
      "RoleBinding/ktf-system/ktf-operator",
      "RoleBinding/team-a/ktf-operator",
      "RoleBinding/team-b/ktf-operator",
      "ClusterRoleBinding//ktf-operator-cluster",
      "RoleBinding/ktf-system/ktf-operator-members",
    ]);
    expect(rulesOf(objects, "ktf-operator-cluster")).toEqual([{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }]);
  });
});

describe("--replicas and --shards", () => {
  const args = (o: Parameters<typeof installManifests>[0]) =>
    (installManifests(o).find((x) => x.kind === "Deployment") as unknown as { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }).spec;
  it("run that many replicas, splitting the workspaces into that many shards", () => {
    const spec = args({ replicas: 3, shards: 3 });
    expect(spec.replicas).toBe(3);
    expect(spec.template.spec.containers[0]?.args).toContain("--shards=3");
  });
  it("let the replicas find each other: member Leases listed and pruned in the operator's namespace only", () => {
    const role = installManifests().find((o) => o.kind === "Role" && o.metadata.name === "ktf-operator-members") as unknown as { metadata: { namespace: string }; rules: Rule[] };
    expect(role.metadata.namespace).toBe("ktf-system");
    expect(role.rules).toEqual([{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["list", "delete"] }]);
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

describe("--github-app", () => {
  type Container = {
    args: string[];
    image: string;
    env: { name: string; value?: string }[];
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
    ports: { name: string; containerPort: number }[];
    livenessProbe: unknown;
    readinessProbe: unknown;
    securityContext: unknown;
  };
  type PodSpec = { serviceAccountName: string; securityContext: unknown; containers: Container[]; volumes: { name: string; secret?: unknown; emptyDir?: unknown }[] };
  const deployment = (objects: KubeObject[], name: string) =>
    (objects.find((o) => o.kind === "Deployment" && o.metadata.name === name) as unknown as { spec: { replicas: number; template: { spec: PodSpec } } } | undefined)?.spec;
  const named = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
  const rulesOfKind = (objects: KubeObject[], kind: string, name: string) => ((objects.find((o) => o.kind === kind && o.metadata.name === name) as { rules?: Rule[] } | undefined)?.rules ?? []);
  const withApp = installManifests({ githubApp: "ktf-github-app", image: "ktf:test" });

  it("adds the receiver's objects only when given", () => {
    const added = named(withApp).filter((n) => !named(installManifests({ image: "ktf:test" })).includes(n));
    expect(added).toEqual([
      "ServiceAccount/ktf-system/ktf-github",
      "ClusterRole//ktf-github",
      "ClusterRole//ktf-github-cluster",
      "Role/ktf-system/ktf-github-queue",
      "ClusterRoleBinding//ktf-github",
      "ClusterRoleBinding//ktf-github-cluster",
      "RoleBinding/ktf-system/ktf-github-queue",
      "Service/ktf-system/ktf-github",
      "Deployment/ktf-system/ktf-github",
    ]);
    expect(named(installManifests()).filter((n) => n.includes("ktf-github"))).toEqual([]);
    expect(JSON.stringify(installManifests().filter((o) => o.kind === "Deployment"))).not.toMatch(/github/);
  });

  it("runs `github serve` from the operator's image with the App's Secret mounted read-only, hardened as the operator is", () => {
    const spec = deployment(withApp, "ktf-github");
    const operator = deployment(withApp, OPERATOR_NAME)?.template.spec;
    const pod = spec?.template.spec;
    const container = pod?.containers[0];
    expect(spec?.replicas).toBe(1);
    expect(pod?.serviceAccountName).toBe("ktf-github");
    expect(container?.image).toBe("ktf:test");
    expect(container?.args).toEqual(["github", "serve", "--namespace=ktf-system"]);
    expect(pod?.volumes).toContainEqual({ name: "github-app", secret: { secretName: "ktf-github-app" } });
    expect(pod?.volumes).toContainEqual({ name: "tmp", emptyDir: {} });
    expect(container?.volumeMounts).toEqual([
      { name: "tmp", mountPath: "/tmp" },
      { name: "github-app", mountPath: "/var/run/secrets/ktf/github", readOnly: true },
    ]);
    expect(container?.env).toContainEqual({ name: "KTF_GITHUB_APP_DIR", value: "/var/run/secrets/ktf/github" });
    expect(container?.ports).toEqual([{ name: "webhook", containerPort: 8443 }]);
    expect(container?.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "webhook" } });
    expect(container?.readinessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "webhook" } });
    expect(pod?.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod?.securityContext).toEqual(operator?.securityContext);
    expect(container?.securityContext).toEqual(operator?.containers[0]?.securityContext);
    expect(container?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    // The operator does not see the App's credentials.
    expect(JSON.stringify(operator)).not.toMatch(/github/);
  });

  it("is behind a Service on 443", () => {
    const service = withApp.find((o) => o.kind === "Service" && o.metadata.name === "ktf-github") as unknown as { spec: { selector: Record<string, string>; ports: unknown[] } };
    expect(service.spec.ports).toEqual([{ name: "webhook", port: 443, targetPort: "webhook" }]);
    expect(service.spec.selector).toEqual({ "app.kubernetes.io/name": "ktf", "app.kubernetes.io/component": "github" });
  });

  it("may do exactly what it needs: no Secret read, no privileged verb on workspaces, no impersonation", () => {
    expect(rulesOf(withApp, "ktf-github")).toEqual([
      { apiGroups: ["ktf.dev"], resources: ["workspaces"], verbs: ["get", "list", "watch"] },
      { apiGroups: ["ktf.dev"], resources: ["runs"], verbs: ["get", "list", "watch", "create", "patch"] },
      { apiGroups: ["ktf.dev"], resources: ["runs/archive"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ]);
    expect(rulesOf(withApp, "ktf-github-cluster")).toEqual([{ apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] }]);
    expect(rulesOfKind(withApp, "Role", "ktf-github-queue")).toEqual([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "delete"] }]);
    const all = [...rulesOf(withApp, "ktf-github"), ...rulesOf(withApp, "ktf-github-cluster"), ...rulesOfKind(withApp, "Role", "ktf-github-queue")];
    const verbs = all.flatMap((r) => r.verbs);
    for (const verb of ["impersonate", "escalate", "bind", "update", "deletecollection", "*", "apply", "destroy", "import", "state"]) expect(verbs).not.toContain(verb);
    expect(all.filter((r) => r.resources.includes("secrets")).flatMap((r) => r.verbs)).toEqual(["create"]);
    expect(all.filter((r) => r.resources.includes("workspaces")).flatMap((r) => r.verbs)).toEqual(["get", "list", "watch"]);
  });

  it("binds its rights to its own ServiceAccount, cluster-wide when every namespace is watched", () => {
    const objects = withApp.filter((o) => o.kind.endsWith("Binding") && o.metadata.name?.startsWith("ktf-github"));
    expect(bindings(objects)).toEqual(["ClusterRoleBinding//ktf-github", "ClusterRoleBinding//ktf-github-cluster", "RoleBinding/ktf-system/ktf-github-queue"]);
    for (const b of objects) expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "ktf-github", namespace: "ktf-system" }]);
    expect(objects.find((o) => o.metadata.name === "ktf-github-queue")?.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "ktf-github-queue" });
  });

  it("is bound only in the watched namespaces with --watch-namespaces; SubjectAccessReviews cluster-wide, its queue at home", () => {
    const objects = installManifests({ githubApp: "gh", namespace: "ops", watchNamespaces: ["team-a", "team-b"] });
    expect(bindings(objects).filter((b) => b.includes("ktf-github"))).toEqual([
      "RoleBinding/team-a/ktf-github",
      "RoleBinding/team-b/ktf-github",
      "ClusterRoleBinding//ktf-github-cluster",
      "RoleBinding/ops/ktf-github-queue",
    ]);
    const container = deployment(objects, "ktf-github")?.template.spec.containers[0];
    expect(container?.args).toEqual(["github", "serve", "--namespace=ops"]);
    expect(container?.env).toContainEqual({ name: "KTF_WATCH_NAMESPACES", value: "team-a,team-b" });
    // The operator's own bindings are as before.
    expect(bindings(objects).filter((b) => b.includes("ktf-operator"))).toEqual(bindings(installManifests({ namespace: "ops", watchNamespaces: ["team-a", "team-b"] })));
  });
});
