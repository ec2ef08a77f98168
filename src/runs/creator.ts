import { ANNOTATIONS } from "../api/group.js";
import type { KubeClient, KubeObject } from "../kube/client.js";

/**
 * Who the cluster says we are (SelfSubjectReview): user and groups. Runs carry it as their creator;
 * admission rejects a run whose claim is not the requester, so this is a courtesy for
 * clusters without MutatingAdmissionPolicy, where the API server cannot fill it in itself.
 */
export async function creatorAnnotations(client: KubeClient): Promise<Record<string, string>> {
  const review = await client.review<KubeObject & { status?: { userInfo?: { username?: string; groups?: string[] } } }>({
    apiVersion: "authentication.k8s.io/v1",
    kind: "SelfSubjectReview",
    metadata: {},
  });
  const username = review.status?.userInfo?.username;
  // The groups too: the operator checks a privileged run's creator again before it starts.
  return username ? { [ANNOTATIONS.createdBy]: username, [ANNOTATIONS.createdByGroups]: (review.status?.userInfo?.groups ?? []).join(",") } : {};
}
