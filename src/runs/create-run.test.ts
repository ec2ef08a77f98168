import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryKubeClient } from "../../test/harness/memory-kube.js";
import { API_VERSION } from "../api/group.js";
import { archiveDigestLabel } from "../api/names.js";
import type { Run } from "../api/run.js";
import type { PackedConfiguration } from "../archive/pack.js";
import { ApiError } from "../errors.js";
import { RESOURCES } from "../kube/resources.js";
import { createRunWithArchive } from "./create-run.js";

function configuration(text: string): PackedConfiguration {
  const bytes = Buffer.from(text);
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length, path: "", files: 1 };
}

const plan = (name: string, workspace: string, c: PackedConfiguration) => ({ namespace: "team", name, spec: { workspace, command: "plan" as const }, configuration: c });

/** What the operator does once it has checked a run's archive (see checkArchive). */
async function checked(kube: MemoryKubeClient, run: Run): Promise<void> {
  await kube.patch(RESOURCES.Run, "team", run.metadata.name ?? "", { metadata: { labels: { "ktf.dev/archive-digest": archiveDigestLabel(run.spec.archive?.digest ?? "") } } });
}

const secrets = (kube: MemoryKubeClient) => kube.calls.filter((c) => c.verb === "create" && c.resource === "secrets").map((c) => c.name);

describe("createRunWithArchive", () => {
  it("uploads a configuration as chunks the run owns, and leaves the digest label to the operator", async () => {
    const kube = new MemoryKubeClient();
    const run = await createRunWithArchive(kube, plan("a", "net", configuration("one")));
    expect(run.spec.archive).toMatchObject({ name: "a-cfg", chunks: 1 });
    expect(run.metadata.labels?.["ktf.dev/archive-digest"]).toBeUndefined();
    expect(secrets(kube)).toEqual(["a-cfg-0"]);
    expect(kube.all(RESOURCES.Secret)[0]?.metadata.ownerReferences).toEqual([{ apiVersion: API_VERSION, kind: "Run", name: "a", uid: "uid-a" }]);
  });

  it("uploads nothing for the same configuration in the same workspace: the new run names the checked archive", async () => {
    const kube = new MemoryKubeClient();
    const c = configuration("one");
    await checked(kube, await createRunWithArchive(kube, plan("a", "net", c)));
    const before = secrets(kube).length;
    const run = await createRunWithArchive(kube, plan("b", "net", c));
    expect(secrets(kube).length).toBe(before);
    expect(run.spec.archive).toEqual({ name: "a-cfg", digest: c.digest, size: c.size, chunks: 1, path: "" });
    expect(run.metadata.annotations?.["ktf.dev/archive-from"]).toBe("a");
  });

  it("takes the newest of the runs that hold it", async () => {
    const kube = new MemoryKubeClient();
    const c = configuration("one");
    await checked(kube, await createRunWithArchive(kube, plan("a", "net", c)));
    const b = await createRunWithArchive(kube, plan("b", "net", c));
    await checked(kube, b);
    expect((await createRunWithArchive(kube, plan("c", "net", c))).metadata.annotations?.["ktf.dev/archive-from"]).toBe("b");
  });

  it.each([
    ["another workspace", plan("b", "dns", configuration("one"))],
    ["another configuration", plan("b", "net", configuration("two"))],
  ])("uploads anew for %s", async (_, second) => {
    const kube = new MemoryKubeClient();
    await checked(kube, await createRunWithArchive(kube, plan("a", "net", configuration("one"))));
    const run = await createRunWithArchive(kube, second);
    expect(run.spec.archive?.name).toBe("b-cfg");
    expect(run.metadata.annotations).toBeUndefined();
    expect(secrets(kube)).toEqual(["a-cfg-0", "b-cfg-0"]);
  });

  it("reuses no archive the operator has not checked (an upload may still be under way), nor one of a run being deleted", async () => {
    const kube = new MemoryKubeClient();
    const c = configuration("one");
    await createRunWithArchive(kube, plan("a", "net", c));
    expect((await createRunWithArchive(kube, plan("b", "net", c))).spec.archive?.name).toBe("b-cfg");

    const going = await createRunWithArchive(kube, plan("going", "other", c));
    await checked(kube, going);
    await kube.patch(RESOURCES.Run, "team", "going", { metadata: { finalizers: ["ktf.dev/release-state-lock"] } });
    await kube.delete(RESOURCES.Run, "team", "going");
    expect((await createRunWithArchive(kube, plan("next", "other", c))).spec.archive?.name).toBe("next-cfg");
  });

  it("uploads as before where it may create runs but not list them", async () => {
    const kube = new MemoryKubeClient();
    kube.list = () => Promise.reject(new ApiError(403, "Forbidden", `runs.ktf.dev is forbidden: User "ci" cannot list resource "runs"`));
    expect((await createRunWithArchive(kube, plan("a", "net", configuration("one")))).spec.archive?.name).toBe("a-cfg");
  });
});
