import { workspaceSchema, type Workspace } from "../api/workspace.js";
import type { KubeClient } from "../kube/client.js";
import { RESOURCES } from "../kube/resources.js";
import type { LinkedWorkspace } from "./touched-workspaces.js";

export type GitHubWorkspace = LinkedWorkspace & { workspace: Workspace };

/** The Workspaces with spec.vcs, in the namespaces the receiver serves (all when none are named). */
export async function linkedWorkspaces(kube: KubeClient, namespaces: readonly string[]): Promise<GitHubWorkspace[]> {
  const lists = await Promise.all((namespaces.length ? namespaces : [undefined]).map((ns) => kube.list(RESOURCES.Workspace, ns)));
  return lists
    .flatMap((l) => l.items)
    .flatMap((raw) => {
      const parsed = workspaceSchema.safeParse(raw);
      const ws = parsed.success ? parsed.data : undefined;
      if (!ws?.spec.vcs) return [];
      return [{ namespace: ws.metadata.namespace ?? "", name: ws.metadata.name ?? "", vcs: ws.spec.vcs, workingDir: ws.spec.workingDir, workspace: ws }];
    });
}

/** The check run's name on the PR: one per workspace. */
export function checkRunName(ws: { namespace: string; name: string }): string {
  return `ktf plan: ${ws.namespace}/${ws.name}`;
}
