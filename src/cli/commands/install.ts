import { connectToCluster } from "../../kube/connect.js";
import { installManifests, defaultInstallOptions, OPERATOR_NAME } from "../../install/manifests.js";
import { toYaml } from "../../install/render.js";
import { runCreatorMutation } from "../../install/admission.js";
import { UsageError, isApiError } from "../../errors.js";
import { MAX_SHARDS } from "../../install/defaults.js";
import { parseBackupTarget } from "../../backup/backup-target.js";
import { creatorAnnotations } from "../../runs/creator.js";
import type { KubeClient, KubeObject } from "../../kube/client.js";
import { pollUntil } from "../../sleep.js";
import { RESOURCES } from "../../kube/resources.js";
import { API_VERSION, GITHUB_RECEIVER, RUN } from "../../api/group.js";
import type { KtfOptions } from "../engine-args.js";
import type { Terminal } from "../output/terminal.js";

export interface InstallCommandOptions extends KtfOptions {
  dryRun?: boolean;
  image?: string;
  replicas?: string;
  shards?: string;
  watchNamespaces?: string;
  operatorNamespace?: string;
  startTimeout?: string;
  cliConfigSecret?: string;
  backup?: string[];
  backupSecret?: string;
  cloudCredentials?: string;
  cloudVariables?: string;
  githubApp?: string;
}

/** A whole number option within bounds, or a UsageError that names the option. */
function wholeNumber(flag: string, value: string | undefined, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return Math.min(fallback, max);
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} expects a whole number ${max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`}, got "${value}"`);
  return n;
}

const POLL_MS = 1000;
const ROLLOUT_TIMEOUT_MS = 180_000;
const ESTABLISH_TIMEOUT_MS = 30_000;
const ESTABLISH_POLL_MS = 500;
const ADMISSION_TIMEOUT_MS = 120_000;
/** What the API server says while a new CRD or policy has not reached its admission chain yet. */
const TRANSIENT_ADMISSION = /failed to configure policy|not yet synced|There can be a delay between when CustomResourceDefinitions are created/;

/**
 * `ktf install`: the CRDs, the operator, its RBAC and the user roles, applied server-side
 * so that running it again upgrades in place. --dry-run prints the manifests instead.
 */
export async function install(t: Terminal, o: InstallCommandOptions): Promise<number> {
  for (const url of o.backup ?? []) parseBackupTarget(url);
  if (o.backupSecret && !o.backup?.length) throw new UsageError("--backup-secret needs --backup s3://BUCKET/PREFIX or gs://BUCKET/PREFIX");
  const replicas = wholeNumber("--replicas", o.replicas, defaultInstallOptions.replicas, 1);
  const objects = installManifests({
    namespace: o.operatorNamespace ?? defaultInstallOptions.namespace,
    image: o.image ?? defaultInstallOptions.image,
    replicas,
    shards: wholeNumber("--shards", o.shards, replicas, 1, MAX_SHARDS),
    watchNamespaces: o.watchNamespaces ? o.watchNamespaces.split(",").filter(Boolean) : [],
    startTimeoutSeconds: wholeNumber("--start-timeout", o.startTimeout, defaultInstallOptions.startTimeoutSeconds, 1),
    ...(o.cliConfigSecret ? { cliConfigSecret: o.cliConfigSecret } : {}),
    ...(o.cloudCredentials ? { cloudCredentials: o.cloudCredentials } : {}),
    ...(o.cloudVariables ? { cloudVariables: o.cloudVariables } : {}),
    ...(o.githubApp ? { githubApp: o.githubApp } : {}),
    ...(o.backup?.length ? { backup: { urls: o.backup, ...(o.backupSecret ? { secret: o.backupSecret } : {}) } } : {}),
  });
  if (o.dryRun) {
    t.stdout.write(toYaml([...objects, ...runCreatorMutation()]));
    return 0;
  }
  const { client } = connectToCluster({ kubeconfig: o.kubeconfig, context: o.context, impersonate: { user: o.as, groups: o.asGroup }, env: t.env });
  const watched = objects.filter((x) => x.kind === "RoleBinding" && x.metadata.name === OPERATOR_NAME).map((x) => x.metadata.namespace ?? "");
  const operatorNamespace = objects.find((x) => x.kind === "Namespace")?.metadata.name;
  for (const ns of watched) {
    if (ns !== operatorNamespace && !(await client.get(RESOURCES.Namespace, undefined, ns))) {
      throw new UsageError(`--watch-namespaces: namespace ${ns} does not exist; create it first (the operator's rights are granted in each watched namespace)`);
    }
  }
  if (o.githubApp && operatorNamespace && !(await client.get(RESOURCES.Secret, operatorNamespace, o.githubApp))) {
    throw new UsageError(`--github-app: Secret ${o.githubApp} does not exist in namespace ${operatorNamespace}; create the App and its Secret with \`ktf github deploy --webhook-url URL --secret ${o.githubApp}\``);
  }
  for (const object of objects) {
    await client.apply(object, { force: true });
    t.stdout.write(`${object.kind.toLowerCase()}/${object.metadata.name} applied\n`);
    if (object.kind === "CustomResourceDefinition") await waitEstablished(client, object);
  }
  // Watching some namespaces after watching all: the cluster-wide grant must go.
  for (const account of watched.length ? [OPERATOR_NAME, ...(o.githubApp ? [GITHUB_RECEIVER] : [])] : []) {
    if (await client.delete(RESOURCES.ClusterRoleBinding, undefined, account).then(() => true, () => false)) {
      t.stdout.write(`clusterrolebinding/${account} deleted (ktf watches only ${watched.filter((n) => n !== operatorNamespace).join(", ")})\n`);
    }
  }
  if (await servesMutatingPolicies(client)) {
    for (const object of runCreatorMutation()) {
      await client.apply(object, { force: true });
      t.stdout.write(`${object.kind.toLowerCase()}/${object.metadata.name} applied\n`);
    }
  } else {
    t.stdout.write("this cluster has no MutatingAdmissionPolicy API: runs record their creator from the client, checked at admission\n");
  }
  const deployment = objects.find((x) => x.kind === "Deployment");
  const rolledOut = deployment ? await waitRolledOut(t, client, deployment) : true;
  const admits = await waitAdmissionReady(t, client, deployment?.metadata.namespace ?? defaultInstallOptions.namespace);
  if (!rolledOut || !admits) return 1;
  t.stdout.write("ktf is installed.\n");
  return 0;
}

type CrdStatus = { status?: { conditions?: { type: string; status: string }[] } };
type DeploymentStatus = { metadata: { generation?: number }; status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number } };

async function waitEstablished(client: KubeClient, crd: KubeObject): Promise<void> {
  await pollUntil(ESTABLISH_TIMEOUT_MS, ESTABLISH_POLL_MS, async () => {
    const current = await client.get<KubeObject & CrdStatus>(RESOURCES.CustomResourceDefinition, undefined, crd.metadata.name ?? "");
    return Boolean(current?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"));
  });
}

async function waitRolledOut(t: Terminal, client: KubeClient, deployment: KubeObject): Promise<boolean> {
  const want = (deployment.spec as { replicas: number }).replicas;
  const available = await pollUntil(ROLLOUT_TIMEOUT_MS, POLL_MS, async () => {
    const d = await client.get<KubeObject & DeploymentStatus>(RESOURCES.Deployment, deployment.metadata.namespace, deployment.metadata.name ?? "");
    const s = d?.status;
    return Boolean(d && s && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === want && s.availableReplicas === want && s.replicas === want);
  });
  if (!available) {
    t.stderr.write(`ktf: the operator did not become available in ${ROLLOUT_TIMEOUT_MS / 1000}s; see: kubectl -n ${deployment.metadata.namespace} describe deployment ${deployment.metadata.name}\n`);
  }
  return available;
}

/**
 * The API server resolves a policy's paramKind (Workspace) through a discovery cache it
 * refreshes every 30 s, and until then rejects every Run with "failed to configure policy";
 * a CRD is Established a moment before its kind reaches the admission chain as well. A
 * server-side dry-run create of a Run goes through all the admission policies and persists
 * nothing, so install waits for it to pass before saying ktf is ready.
 */
async function waitAdmissionReady(t: Terminal, client: KubeClient, namespace: string): Promise<boolean> {
  const probe: KubeObject = {
    apiVersion: API_VERSION,
    kind: RUN.kind,
    // As ktf itself creates runs: with the creator claimed, as a cluster without the mutating policy needs.
    metadata: { name: "ktf-install-probe", namespace, annotations: await creatorAnnotations(client) },
    spec: { workspace: "ktf-install-probe", command: "plan" },
  };
  let refusal = "";
  const ready = await pollUntil(ADMISSION_TIMEOUT_MS, POLL_MS, async () => {
    try {
      await client.create(probe, { dryRun: true });
      return true;
    } catch (err) {
      if (!isApiError(err) || !TRANSIENT_ADMISSION.test(err.message)) throw err;
      if (!refusal) t.stdout.write("waiting for the API server to load the admission policies\n");
      refusal = err.message;
      return false;
    }
  });
  if (!ready) t.stderr.write(`ktf: the API server's admission policies are not ready after ${ADMISSION_TIMEOUT_MS / 1000}s: ${refusal}\n`);
  return ready;
}

/** Whether the cluster serves admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy. */
async function servesMutatingPolicies(client: KubeClient): Promise<boolean> {
  try {
    await client.list(RESOURCES.MutatingAdmissionPolicy, undefined);
    return true;
  } catch (err) {
    if (isApiError(err, 404)) return false;
    throw err;
  }
}
