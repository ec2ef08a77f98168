import type { Workspace } from "../api/workspace.js";

/** What ktf keeps of a TFC workspace's settings, as the Workspace's spec says. */
export interface CloudWorkspaceSettings {
  name: string;
  /** Unset: TFC's default, and whatever the TFC workspace has is left alone. */
  terraformVersion?: string;
  executionMode: "remote" | "local" | "agent";
  agentPoolId?: string;
  /** Unset: the spec names no project, and the TFC workspace's is left alone. */
  projectId?: string;
  autoApply: boolean;
  workingDirectory: string;
  tags: string[];
}

/** terraform-k8s' default name, `<namespace>-<name>`, unless the spec names one. */
export function cloudWorkspaceName(ws: Workspace): string {
  return ws.spec.cloud?.workspace ?? `${ws.metadata.namespace ?? ""}-${ws.metadata.name ?? ""}`;
}

/** `projectId`: spec.cloud.project as TFC's ID, looked up by the caller. */
export function desiredSettings(ws: Workspace, projectId?: string): CloudWorkspaceSettings {
  const cloud = ws.spec.cloud;
  if (!cloud) throw new Error(`workspace ${ws.metadata.name} has no spec.cloud`);
  return {
    name: cloudWorkspaceName(ws),
    ...(cloud.terraformVersion ? { terraformVersion: cloud.terraformVersion } : {}),
    executionMode: cloud.executionMode,
    ...(cloud.agentPool ? { agentPoolId: cloud.agentPool } : {}),
    ...(projectId ? { projectId } : {}),
    autoApply: cloud.applyMethod === "auto",
    workingDirectory: ws.spec.workingDir,
    tags: [...new Set(cloud.tags)].sort(),
  };
}

/** The settings that differ, by name: what the operator puts back (and says it did). */
export function settingsDrift(desired: CloudWorkspaceSettings, actual: CloudWorkspaceSettings): (keyof CloudWorkspaceSettings)[] {
  const drift: (keyof CloudWorkspaceSettings)[] = [];
  if (desired.name !== actual.name) drift.push("name");
  if (desired.terraformVersion !== undefined && desired.terraformVersion !== actual.terraformVersion) drift.push("terraformVersion");
  if (desired.executionMode !== actual.executionMode) drift.push("executionMode");
  if ((desired.agentPoolId ?? "") !== (actual.agentPoolId ?? "")) drift.push("agentPoolId");
  if (desired.projectId !== undefined && desired.projectId !== actual.projectId) drift.push("projectId");
  if (desired.autoApply !== actual.autoApply) drift.push("autoApply");
  if (desired.workingDirectory !== actual.workingDirectory) drift.push("workingDirectory");
  if (desired.tags.join(",") !== [...new Set(actual.tags)].sort().join(",")) drift.push("tags");
  return drift;
}
