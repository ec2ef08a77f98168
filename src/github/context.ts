import type { KubeClient } from "../kube/client.js";
import type { Logger } from "../log.js";
import type { GitHubApp } from "./app-client.js";

/** What the receiver's handlers work with: the cluster as the receiver, the App, where they may look. */
export interface GitHubContext {
  /** The Kubernetes API as the receiver's ServiceAccount. */
  kube: KubeClient;
  app: GitHubApp;
  log: Logger;
  /** The namespaces it serves; empty: all. */
  namespaces: readonly string[];
  /** Its own creator annotations (a Run records who created it: the receiver). */
  creator: Record<string, string>;
  /** Where GitHub's tarballs are unpacked. */
  tmpDir?: string;
}

/** "owner/repo" into its two parts. */
export function splitRepository(repository: string): [string, string] {
  const [owner = "", repo = ""] = repository.split("/");
  return [owner, repo];
}
