import { join } from "node:path";
import { connectToCluster } from "../../src/kube/connect.js";
import type { HttpKubeClient } from "../../src/kube/http-client.js";
import { kubectl, ROOT, sh } from "./cluster.js";

/** A kubeconfig for a real user of the test cluster: a client certificate with these groups. */
export async function mintUser(name: string, groups: string[] = []): Promise<string> {
  return (await sh(join(ROOT, "scripts/cluster.sh"), ["user", name, ...groups])).trim().split("\n").pop() ?? "";
}

/** A real user who may edit Workspaces in the namespace (the verbs given) and holds none of ktf's privileged verbs; a client as them. */
export async function workspaceEditor(namespace: string, name: string, verbs = "get,list,create,update,patch,delete"): Promise<HttpKubeClient> {
  const kubeconfig = await mintUser(name);
  await kubectl(["-n", namespace, "create", "role", "workspace-editor", `--verb=${verbs}`, "--resource=workspaces.ktf.dev"]);
  await kubectl(["-n", namespace, "create", "rolebinding", `${name}-editor`, "--role=workspace-editor", `--user=${name}`]);
  return connectToCluster({ kubeconfig }).client;
}

/** Lets the user read this one Secret of the namespace (what naming it in a Workspace needs). */
export async function mayReadSecret(namespace: string, user: string, secret: string): Promise<void> {
  await kubectl(["-n", namespace, "create", "role", `${user}-reads-${secret}`, "--verb=get", "--resource=secrets", `--resource-name=${secret}`]);
  await kubectl(["-n", namespace, "create", "rolebinding", `${user}-reads-${secret}`, `--role=${user}-reads-${secret}`, `--user=${user}`]);
}
