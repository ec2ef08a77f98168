import type { Workspace } from "../api/workspace.js";
import { KtfError, isApiError } from "../errors.js";
import { OPERATOR_NAME, VERSION_LABEL } from "../install/manifests.js";
import type { KubeObject } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import { KTF_VERSION } from "../version.js";
import type { KtfOptions } from "./engine-args.js";
import type { Terminal } from "./output/terminal.js";
import { requireWorkspace, type Session } from "./session.js";

/** Why a version could not be told: the cluster, an answer, ktf missing. */
export interface Unknown {
  error: string;
}

export interface OperatorVersion {
  /** The operator Deployment's namespace. */
  namespace: string;
  /** From its version label, else its image's tag; absent when neither tells. */
  version?: string;
  image?: string;
  /** The run image workspaces get when they name none (the operator's KTF_RUNNER_IMAGE). */
  runnerImage?: string;
  /** Where the version was read instead of the Deployment: a workspace's status. */
  reportedBy?: string;
}

export interface EngineVersion {
  namespace: string;
  workspace: string;
  name: string;
  /** What the workspace pins (spec.engine.version); absent: whatever its run image has. */
  version?: string;
  /** The run image: the workspace's, else the operator's default, when known. */
  image?: string;
}

/** What `ktf version` shows: this ktf, the operator in the cluster, the selected workspace's engine. */
export interface VersionReport {
  ktf: { version: string };
  operator: OperatorVersion | Unknown;
  engine: EngineVersion | Unknown;
}

export interface VersionQuery extends KtfOptions {
  operatorNamespace: string;
}

export type Connect = (t: Terminal, options: KtfOptions, dir: string) => Promise<Session>;

/**
 * Asks the cluster what it runs. Whatever the cluster says (unreachable, forbidden, ktf not
 * installed), the report holds ktf's own version and says per line what could not be told.
 */
export async function versionReport(t: Terminal, o: VersionQuery, connect: Connect): Promise<VersionReport> {
  const ktf = { version: KTF_VERSION };
  let session: Session;
  try {
    session = await connect(t, o, t.cwd);
  } catch (err) {
    const unknown = unknownFrom(err);
    return { ktf, operator: unknown, engine: unknown };
  }
  const [operator, workspace] = await Promise.all([
    readOperator(session, o.operatorNamespace),
    requireWorkspace(t, session, o.workspace, t.cwd).catch(unknownFrom),
  ]);
  const engine = "error" in workspace ? workspace : engineOf(workspace, session.namespace, "error" in operator ? undefined : operator.runnerImage);
  // Users may not read the operator's Deployment; the workspaces it reconciles say its version.
  if ("error" in operator && operator.error.startsWith("forbidden") && !("error" in workspace) && workspace.status?.operatorVersion) {
    const reportedBy = `workspace ${session.namespace}/${workspace.metadata.name}`;
    return { ktf, operator: { namespace: o.operatorNamespace, version: workspace.status.operatorVersion, reportedBy }, engine };
  }
  return { ktf, operator, engine };
}

/** ktf's errors become a line of the report; anything else is a bug and goes on up. */
function unknownFrom(err: unknown): Unknown {
  if (!(err instanceof KtfError)) throw err;
  return { error: isApiError(err, 403) ? `forbidden: ${err.message}` : err.message };
}

async function readOperator(session: Session, namespace: string): Promise<OperatorVersion | Unknown> {
  try {
    const deployment = await session.client.get(RESOURCES.Deployment, namespace, OPERATOR_NAME);
    if (!deployment) {
      return { error: `ktf is not installed in the cluster at ${session.server}: no deployment ${OPERATOR_NAME} in namespace ${namespace} (install it with \`ktf install\`, or pass --operator-namespace)` };
    }
    return operatorOf(deployment, namespace);
  } catch (err) {
    return unknownFrom(err);
  }
}

interface Container {
  name?: string;
  image?: string;
  env?: { name: string; value?: string }[];
}

/** The operator's version from its Deployment: the label `ktf install` sets, else the image's tag. */
export function operatorOf(deployment: KubeObject, namespace: string): OperatorVersion {
  const spec = deployment.spec as { template?: { spec?: { containers?: Container[] } } } | undefined;
  const container = spec?.template?.spec?.containers?.find((c) => c.name === "operator");
  const image = container?.image;
  const version = deployment.metadata.labels?.[VERSION_LABEL] ?? (image ? versionInTag(image) : undefined);
  const runnerImage = container?.env?.find((e) => e.name === "KTF_RUNNER_IMAGE")?.value;
  return { namespace, ...(version ? { version } : {}), ...(image ? { image } : {}), ...(runnerImage ? { runnerImage } : {}) };
}

/** `registry:5000/ktf:v0.1.0@sha256:...` -> `0.1.0`; undefined for a tag that is no version (`dev`). */
export function versionInTag(image: string): string | undefined {
  const name = image.split("@")[0] ?? "";
  const colon = name.lastIndexOf(":");
  if (colon < 0 || colon < name.lastIndexOf("/")) return undefined;
  return /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/.exec(name.slice(colon + 1))?.[1];
}

function engineOf(ws: Workspace, namespace: string, defaultImage: string | undefined): EngineVersion {
  const image = ws.spec.image ?? defaultImage;
  return {
    namespace,
    workspace: ws.metadata.name ?? "",
    name: ws.spec.engine.name,
    ...(ws.spec.engine.version ? { version: ws.spec.engine.version.replace(/^v/, "") } : {}),
    ...(image ? { image } : {}),
  };
}
