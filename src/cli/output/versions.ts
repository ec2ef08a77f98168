import { OPERATOR_NAME } from "../../install/manifests.js";
import type { EngineVersion, OperatorVersion, Unknown, VersionReport } from "../installed-versions.js";

function operatorLine(o: OperatorVersion | Unknown): string {
  if ("error" in o) return `unknown: ${o.error}`;
  if (o.reportedBy && o.version) return `${o.version} (as ${o.reportedBy} reports it: the operator's Deployment is not readable)`;
  const where = `deployment ${o.namespace}/${OPERATOR_NAME}${o.image ? `, image ${o.image}` : ""}`;
  return o.version ? `${o.version} (${where})` : `unknown (${where}: no version label, and the image's tag is no version)`;
}

function engineLine(e: EngineVersion | Unknown): string {
  if ("error" in e) return `unknown: ${e.error}`;
  const workspace = `workspace ${e.namespace}/${e.workspace}`;
  if (e.version) return `${e.name} ${e.version} (${workspace})`;
  const image = e.image ? `run image ${e.image}` : "the run image";
  return `${e.name}, the version in ${image} (${workspace} pins none)`;
}

/**
 *   ktf:       0.1.0
 *   operator:  0.1.0 (deployment ktf-system/ktf-operator, image ghcr.io/ktf-dev/ktf:v0.1.0)
 *   engine:    tofu 1.10.10 (workspace team/net)
 */
export function versionsText(r: VersionReport): string {
  return [`ktf:       ${r.ktf.version}`, `operator:  ${operatorLine(r.operator)}`, `engine:    ${engineLine(r.engine)}`].join("\n") + "\n";
}

export function versionsJson(r: VersionReport): string {
  return JSON.stringify(r, null, 2) + "\n";
}
