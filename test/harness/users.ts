import { join } from "node:path";
import { ROOT, sh } from "./cluster.js";

/** A kubeconfig for a real user of the test cluster: a client certificate with these groups. */
export async function mintUser(name: string, groups: string[] = []): Promise<string> {
  return (await sh(join(ROOT, "scripts/cluster.sh"), ["user", name, ...groups])).trim().split("\n").pop() ?? "";
}
