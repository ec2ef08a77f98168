import { posix } from "node:path";
import { ANNOTATIONS, LABELS } from "../../api/group.js";
import type { Run } from "../../api/run.js";
import { CLI_CONFIG_CA_KEY, type EnvVar, type Variable, type Workspace } from "../../api/workspace.js";
import type { KubeObject } from "../../kube/client.js";
import { CLI_CONFIG_CA_FILE, CLI_CONFIG_FILE, ENV, MOUNTS, TOKENS_DIR, type RunnerJob } from "../../runner/contract.js";
import { stateAccess } from "../../api/commands.js";
import type { StoredStateRef } from "../../state/state-versions.js";
import { archiveVolumeSources, chunkVolumeSources } from "../../archive/chunks.js";
import { labelValue, names } from "../../api/names.js";
import { ownerReference } from "../../kube/owner.js";

export interface RunPodInput {
  run: Run;
  workspace: Workspace;
  /** For an apply of a saved plan: the plan run, whose archive and plan the apply uses. */
  planRun?: Run;
  image: string;
  serviceAccountName: string;
  /** The current state version when it is chunked: mounted for the state sidecar, which may read no Secret but its pointer. */
  state?: StoredStateRef;
  /** The stored state `state rollback` (newSerial) or `state recover` pushes back. */
  push?: StoredStateRef & { newSerial: boolean };
  /** The Secret and key of the engine's CLI configuration: the workspace's, or the installation's default; `ca` when the Secret has CA certificates too. */
  cliConfig?: CliConfigRef;
}

export interface CliConfigRef {
  secretName: string;
  key: string;
  ca: boolean;
}

export const RUN_UID = 65532;
/** The state sidecar's own user: the engine's processes can neither signal it nor write its files. */
export const STATE_UID = 65533;
/** The run's scratch space: the unpacked configuration (2 GiB at most), providers, plans. */
const WORK_SIZE = "8Gi";
const TMP_SIZE = "1Gi";
/** Time for the engine to stop cleanly (release the lock, write state) after SIGTERM. */
const GRACE_SECONDS = 120;

function valueFromRef(v: Variable | EnvVar) {
  const from = v.valueFrom;
  if (from?.secretKeyRef) return { secretKeyRef: { name: from.secretKeyRef.name, key: from.secretKeyRef.key } };
  if (from?.configMapKeyRef) return { configMapKeyRef: { name: from.configMapKeyRef.name, key: from.configMapKeyRef.key } };
  return undefined;
}

/** A Kubernetes env entry: literal, or read by the kubelet from a Secret or ConfigMap key. */
function envEntry(name: string, v: Variable | EnvVar) {
  const valueFrom = valueFromRef(v);
  return valueFrom ? { name, valueFrom } : { name, value: v.value ?? "" };
}

/**
 * The environment of the run's container. Variable values never pass through the
 * operator when they come from a Secret: the kubelet reads them as the pod starts.
 */
function runEnv(ws: Workspace, job: RunnerJob, cliConfig: RunPodInput["cliConfig"]) {
  const spec = ws.spec;
  return [
    ...(cliConfig ? [{ name: "TF_CLI_CONFIG_FILE", value: CLI_CONFIG_FILE }] : []),
    ...spec.env.map((e) => envEntry(e.name, e)),
    ...spec.variables.map((v) => envEntry(v.hcl ? `${ENV.hclVariablePrefix}${v.name}` : `TF_VAR_${v.name}`, v)),
    { name: ENV.job, value: JSON.stringify(job) },
    { name: "HOME", value: `${MOUNTS.tmp}/home` },
    { name: "TF_IN_AUTOMATION", value: "1" },
    { name: "TF_INPUT", value: "0" },
    { name: "CHECKPOINT_DISABLE", value: "1" },
    { name: "TF_PLUGIN_CACHE_DIR", value: `${MOUNTS.cache}/plugins` },
  ];
}

export function runnerJob(input: RunPodInput): RunnerJob {
  const { run, workspace: ws, planRun } = input;
  const archive = planRun?.spec.archive ?? run.spec.archive;
  const plan = planRun?.status?.plan;
  const user = run.metadata.annotations?.[ANNOTATIONS.createdBy];
  return {
    namespace: run.metadata.namespace ?? "",
    run: run.metadata.name ?? "",
    runUid: run.metadata.uid ?? "",
    workspace: ws.metadata.name ?? "",
    engine: ws.spec.engine.name,
    ...(ws.spec.engine.version ? { engineVersion: ws.spec.engine.version } : {}),
    command: run.spec.command,
    args: run.spec.args,
    ...(archive ? { archive } : {}),
    workingDir: posix.join(archive?.path ?? "", ws.spec.workingDir || "."),
    ...(run.spec.command === "plan" && run.spec.savePlan ? { savePlanAs: names.planSecret(run.metadata.name ?? "") } : {}),
    ...(plan?.digest && plan.size !== undefined && plan.chunks
      ? { plan: { digest: plan.digest, size: plan.size, chunks: plan.chunks } }
      : {}),
    hclVariables: ws.spec.variables.filter((v) => v.hcl).map((v) => v.name),
    stateSecretSuffix: ws.metadata.name ?? "",
    stateAccess: stateAccess(run.spec.command, run.spec.args),
    ...(run.spec.outputKey ? { outputKey: run.spec.outputKey } : {}),
    ...(user ? { user } : {}),
    ...(input.state ? { state: input.state } : {}),
    ...(input.push ? { push: input.push } : {}),
  };
}

/** The run's ServiceAccount token, for the state sidecar only (the engine gets none). */
function apiAccessVolume() {
  return {
    name: "kube-api-access",
    projected: {
      defaultMode: 0o440,
      sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  };
}

function volumes(input: RunPodInput) {
  const { run, workspace: ws, planRun } = input;
  const archive = planRun?.spec.archive ?? run.spec.archive;
  const plan = planRun?.status?.plan;
  const list: Record<string, unknown>[] = [
    // Bounded, so that a run cannot fill the node's disk (the kubelet evicts a pod past it).
    { name: "work", emptyDir: { sizeLimit: WORK_SIZE } },
    { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE } },
    ws.spec.cache
      ? { name: "cache", persistentVolumeClaim: { claimName: names.cacheClaim(ws.metadata.name ?? "") } }
      : { name: "cache", emptyDir: {} },
    apiAccessVolume(),
  ];
  const mounts: Record<string, unknown>[] = [
    { name: "work", mountPath: MOUNTS.work },
    { name: "tmp", mountPath: MOUNTS.tmp },
    { name: "cache", mountPath: MOUNTS.cache },
  ];
  if (input.cliConfig) {
    const { secretName, key, ca } = input.cliConfig;
    const items = [{ key, path: posix.basename(CLI_CONFIG_FILE) }, ...(ca ? [{ key: CLI_CONFIG_CA_KEY, path: posix.basename(CLI_CONFIG_CA_FILE) }] : [])];
    list.push({ name: "cli-config", secret: { secretName, items } });
    mounts.push({ name: "cli-config", mountPath: posix.dirname(CLI_CONFIG_FILE), readOnly: true });
  }
  if (archive) {
    list.push({ name: "archive", projected: { sources: archiveVolumeSources(archive) } });
    mounts.push({ name: "archive", mountPath: MOUNTS.archive, readOnly: true });
  }
  // The plan's Secrets are named after the plan run, never after what a status says.
  if (planRun && plan?.chunks) {
    list.push({ name: "plan", projected: { sources: chunkVolumeSources("secret", names.planSecret(planRun.metadata.name ?? ""), plan.chunks) } });
    mounts.push({ name: "plan", mountPath: MOUNTS.plan, readOnly: true });
  }
  if (input.push) {
    list.push({ name: "push", projected: { sources: chunkVolumeSources("secret", input.push.name, input.push.chunks) } });
    mounts.push({ name: "push", mountPath: MOUNTS.push, readOnly: true });
  }
  if (input.state) list.push({ name: "state", projected: { sources: chunkVolumeSources("secret", input.state.name, input.state.chunks) } });
  list.push({ name: "state-tmp", emptyDir: {} });
  for (const token of ws.spec.identity.tokens) {
    const name = `token-${token.path}`;
    list.push({ name, projected: { sources: [{ serviceAccountToken: { audience: token.audience, expirationSeconds: token.expirationSeconds, path: "token" } }] } });
    mounts.push({ name, mountPath: `${TOKENS_DIR}/${token.path}`, readOnly: true });
  }
  return { volumes: list, mounts };
}

const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

/**
 * The state sidecar (a native sidecar: it starts first and is stopped once the engine's
 * container ends). It alone mounts the run's ServiceAccount token. It listens on the pod's
 * loopback only, so that no other pod can reach the state; the runner waits for it there
 * (a kubelet probe could not reach it, and would add a probe period to every run).
 */
function stateSidecar(image: string, job: RunnerJob) {
  const stateMount = job.state ? [{ name: "state", mountPath: MOUNTS.state, readOnly: true }] : [];
  return {
    name: "state",
    image,
    imagePullPolicy: "IfNotPresent",
    restartPolicy: "Always",
    args: ["state-server"],
    env: [{ name: ENV.job, value: JSON.stringify(job) }],
    volumeMounts: [
      { name: "kube-api-access", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true },
      { name: "state-tmp", mountPath: MOUNTS.tmp },
      ...stateMount,
    ],
    // A state or plan of a few hundred MB passes through it whole.
    resources: { requests: { cpu: "10m", memory: "48Mi" }, limits: { memory: "1Gi" } },
    terminationMessagePolicy: "File",
    securityContext: { ...RESTRICTED_CONTAINER, runAsUser: STATE_UID, runAsGroup: STATE_UID },
  };
}

/** The pod that executes a run: restricted pod security, owned by the run. */
export function podForRun(input: RunPodInput): KubeObject {
  const { run, workspace: ws } = input;
  const runName = run.metadata.name ?? "";
  const wsName = ws.metadata.name ?? "";
  const image = ws.spec.image ?? input.image;
  const job = runnerJob(input);
  const { volumes: vols, mounts } = volumes(input);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: names.runPod(runName),
      namespace: run.metadata.namespace,
      labels: {
        [LABELS.workspace]: labelValue(wsName),
        [LABELS.run]: labelValue(runName),
        [LABELS.component]: "run",
        [LABELS.managedBy]: "ktf",
      },
      ownerReferences: [ownerReference(run, { controller: true })],
    },
    spec: {
      restartPolicy: "Never",
      serviceAccountName: input.serviceAccountName,
      // The token is mounted into the state sidecar alone: code the configuration runs
      // (provisioners, external data sources) cannot reach the Kubernetes API.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: GRACE_SECONDS,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUN_UID,
        runAsGroup: RUN_UID,
        fsGroup: RUN_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      ...(ws.spec.nodeSelector ? { nodeSelector: ws.spec.nodeSelector } : {}),
      ...(ws.spec.tolerations ? { tolerations: ws.spec.tolerations } : {}),
      initContainers: [stateSidecar(image, job)],
      containers: [
        {
          name: "runner",
          image,
          imagePullPolicy: "IfNotPresent",
          args: ["runner"],
          workingDir: MOUNTS.work,
          env: runEnv(ws, job, input.cliConfig),
          volumeMounts: mounts,
          ...(ws.spec.resources ? { resources: ws.spec.resources } : {}),
          // Input only: the runner gives the engine its own terminal and seals what it shows.
          ...(run.spec.interactive ? { stdin: true, stdinOnce: true } : {}),
          terminationMessagePolicy: "File",
          securityContext: RESTRICTED_CONTAINER,
        },
      ],
      volumes: vols,
    },
  };
}
