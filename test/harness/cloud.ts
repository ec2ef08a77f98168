import { randomBytes } from "node:crypto";
import { TfcClient } from "../../src/cloud/tfc-client.js";
import { connectToCluster } from "../../src/kube/connect.js";
import { harness, testNamespace } from "./cluster.js";

/**
 * What every test file of cloud workspaces needs: OTF's API as a TFC user sees it, an
 * organization of the file's own, the cluster, and spec.cloud pointing at both with the
 * token Secret `tfc-token` of the file's namespace.
 */
export function otfWorld(orgPrefix: string) {
  const h = harness();
  const org = `${orgPrefix}-${randomBytes(4).toString("hex")}`;
  return {
    h,
    org,
    tfc: new TfcClient({ hostname: h.otf.OTF_URL ?? "", token: h.otf.OTF_TOKEN ?? "", fetch: (url, init) => fetch(url, init) }),
    kube: connectToCluster({ kubeconfig: h.kubeconfig }).client,
    /** A Workspace's spec.cloud for the organization on OTF, with `extra` fields. */
    cloud: (extra: Record<string, unknown> = {}) => ({
      hostname: h.otf.OTF_URL,
      organization: org,
      terraformVersion: h.otf.OTF_TERRAFORM_VERSION,
      token: { secretKeyRef: { name: "tfc-token", key: "token" } },
      ...extra,
    }),
  };
}

/** The file's namespace with the Secret tfc-token (the token under `token`, and `extra` keys), and its organization made in OTF. */
export async function otfNamespace(world: ReturnType<typeof otfWorld>, prefix: string, extra: Record<string, string> = {}) {
  const ns = await testNamespace(prefix);
  await world.tfc.organizations.create(world.org, "ktf-e2e@example.com");
  await world.kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "tfc-token", namespace: ns.name }, stringData: { token: world.h.otf.OTF_TOKEN ?? "", ...extra } });
  return ns;
}
