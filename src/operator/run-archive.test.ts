import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryKubeClient } from "../../test/harness/memory-kube.js";
import { runSchema, type Run } from "../api/run.js";
import { CHUNK_BYTES } from "../archive/chunks.js";
import type { PackedConfiguration } from "../archive/pack.js";
import { RESOURCES } from "../kube/resources.js";
import { silentLogger } from "../log.js";
import { createRunWithArchive } from "../runs/create-run.js";
import { RunController } from "./controllers/run.js";
import { checkArchive } from "./run-archive.js";

/** Two chunks: one more than what fits in one Secret. */
function configuration(bytes = randomBytes(CHUNK_BYTES + 10)): PackedConfiguration {
  return { bytes, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length, path: "", files: 1 };
}

const create = (kube: MemoryKubeClient, name: string, c: PackedConfiguration) => createRunWithArchive(kube, { namespace: "team", name, spec: { workspace: "net", command: "plan" }, configuration: c });

async function current(kube: MemoryKubeClient, name: string): Promise<Run> {
  return runSchema.parse(await kube.get(RESOURCES.Run, "team", name));
}

/** Each chunk Secret and the names of the runs that own it. */
const owners = (kube: MemoryKubeClient): Record<string, string[]> => Object.fromEntries(kube.all(RESOURCES.Secret).map((s) => [s.metadata.name ?? "", (s.metadata.ownerReferences ?? []).map((r) => r.name)] as const));

/** Run a uploaded a configuration and the operator checked it; run b, of the same configuration, reuses it. */
async function reusing(): Promise<{ kube: MemoryKubeClient; c: PackedConfiguration }> {
  const kube = new MemoryKubeClient();
  const c = configuration();
  await create(kube, "a", c);
  await checkArchive(kube, await current(kube, "a"), undefined);
  await create(kube, "b", c);
  return { kube, c };
}

const WRITES = new Set(["create", "update", "patch", "delete"]);
const writesSince = (kube: MemoryKubeClient, n: number) => kube.calls.slice(n).filter((c) => WRITES.has(c.verb)).map((c) => `${c.verb} ${c.resource} ${c.name ?? ""}`);

describe("checkArchive", () => {
  it("waits while chunks are missing; once all are there, checks them and labels the run, once", async () => {
    const kube = new MemoryKubeClient();
    const c = configuration();
    const run = await create(kube, "a", c);
    await kube.delete(RESOURCES.Secret, "team", "a-cfg-1");
    expect(await checkArchive(kube, await current(kube, "a"), undefined)).toEqual({ kind: "uploading", progress: "1 of 2 chunks present" });

    await kube.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "a-cfg-1", namespace: "team", ownerReferences: [{ apiVersion: run.apiVersion, kind: "Run", name: "a", uid: run.metadata.uid ?? "" }] }, data: { chunk: c.bytes.subarray(CHUNK_BYTES).toString("base64") } });
    const seen = kube.calls.length;
    expect(await checkArchive(kube, await current(kube, "a"), undefined)).toEqual({ kind: "ready" });
    // Its own chunks need no other owner.
    expect(writesSince(kube, seen)).toEqual(["patch runs a"]);
    expect((await current(kube, "a")).metadata.labels?.["ktf.dev/archive-digest"]).toBe(c.digest.slice(7, 39));

    const again = kube.calls.length;
    expect(await checkArchive(kube, await current(kube, "a"), undefined)).toEqual({ kind: "ready" });
    expect(writesSince(kube, again)).toEqual([]);
  });

  it("makes a run that reuses an archive an owner of its chunks (not twice), so they outlive the run that uploaded them", async () => {
    const { kube } = await reusing();
    expect(await checkArchive(kube, await current(kube, "b"), undefined)).toEqual({ kind: "ready" });
    expect(owners(kube)).toEqual({ "a-cfg-0": ["a", "b"], "a-cfg-1": ["a", "b"] });
    await checkArchive(kube, await current(kube, "b"), undefined);
    await kube.patch(RESOURCES.Run, "team", "b", { metadata: { labels: { "ktf.dev/archive-digest": null } } });
    await checkArchive(kube, await current(kube, "b"), undefined);
    expect(owners(kube)).toEqual({ "a-cfg-0": ["a", "b"], "a-cfg-1": ["a", "b"] });

    await kube.delete(RESOURCES.Run, "team", "a");
    kube.collectGarbage();
    expect(Object.keys(owners(kube))).toEqual(["a-cfg-0", "a-cfg-1"]);
    await kube.delete(RESOURCES.Run, "team", "b");
    kube.collectGarbage();
    expect(owners(kube)).toEqual({});
  });

  it("gives up at once on a reused archive that was deleted before the run became its owner", async () => {
    const { kube } = await reusing();
    await kube.delete(RESOURCES.Run, "team", "a");
    kube.collectGarbage();
    expect(await checkArchive(kube, await current(kube, "b"), undefined)).toEqual({
      kind: "unusable",
      reason: "ArchiveIncomplete",
      message: "the configuration it reuses from run a was deleted (0 of 2 chunks present): run again to upload it anew",
    });
  });

  it("stops offering an archive found gone, so that running again uploads it anew", async () => {
    const { kube, c } = await reusing();
    // Deleted all the same (by hand, or by a garbage collector that had decided before b became an owner).
    for (const s of kube.all(RESOURCES.Secret)) await kube.delete(RESOURCES.Secret, "team", s.metadata.name ?? "");
    expect(await checkArchive(kube, await current(kube, "b"), undefined)).toMatchObject({ kind: "unusable", reason: "ArchiveIncomplete" });
    expect((await current(kube, "a")).metadata.labels?.["ktf.dev/archive-digest"]).toBeUndefined();
    expect((await create(kube, "c", c)).spec.archive?.name).toBe("c-cfg");
  });

  it("refuses chunks that are not what the run's digest says, and makes them nobody else's", async () => {
    const kube = new MemoryKubeClient();
    const c = configuration();
    await create(kube, "a", c);
    await createRunWithArchive(kube, { namespace: "team", name: "b", spec: { workspace: "net", command: "plan" }, configuration: { ...configuration(), bytes: c.bytes } });
    // b's chunks are a's bytes, under another digest: as if b named a chunk set that is not its configuration.
    const check = await checkArchive(kube, await current(kube, "b"), undefined);
    expect(check).toMatchObject({ kind: "unusable", reason: "ArchiveInvalid", message: expect.stringMatching(/^the configuration archive b-cfg has the digest sha256:\w+, but sha256:\w+ was uploaded/) as unknown });
    expect((await current(kube, "b")).metadata.labels?.["ktf.dev/archive-digest"]).toBeUndefined();
  });

  it("only looks for the saved plan's archive of an apply: its plan run holds it", async () => {
    const kube = new MemoryKubeClient();
    await create(kube, "plan", configuration());
    const planRun = await current(kube, "plan");
    kube.put({ apiVersion: planRun.apiVersion, kind: "Run", metadata: { name: "apply", namespace: "team" }, spec: { workspace: "net", command: "apply", planRun: "plan" } });
    const seen = kube.calls.length;
    expect(await checkArchive(kube, await current(kube, "apply"), planRun)).toEqual({ kind: "ready" });
    expect(writesSince(kube, seen)).toEqual([]);
  });
});

describe("a run whose reused configuration is gone", () => {
  it("fails at once, saying to run again, instead of waiting for an upload that never comes", async () => {
    const kube = new MemoryKubeClient();
    kube.put({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "net", namespace: "team" }, spec: {} });
    const c = configuration();
    await create(kube, "a", c);
    await checkArchive(kube, await current(kube, "a"), undefined);
    await create(kube, "b", c);
    await kube.delete(RESOURCES.Run, "team", "a");
    kube.collectGarbage();
    const events: string[] = [];
    const controller = new RunController({
      client: kube,
      events: { normal: () => undefined, warning: (_o, reason, message) => void events.push(`${reason}: ${message}`) },
      log: silentLogger(),
      now: () => new Date("2026-01-01T00:00:30Z"),
      runnerImage: "ktf:test",
      archiveTimeoutMs: 600_000,
      startTimeoutMs: 120_000,
      apiAudiences: [],
    });
    expect(await controller.reconcile({ namespace: "team", name: "b" })).toEqual({});
    const b = await current(kube, "b");
    expect(b.status?.phase).toBe("Failed");
    expect(b.status?.conditions?.find((x) => x.type === "Complete")).toMatchObject({ reason: "ArchiveIncomplete", message: expect.stringContaining("the configuration it reuses from run a was deleted") as unknown });
    expect(events).toEqual([expect.stringMatching(/^ArchiveIncomplete: Run failed: the configuration it reuses from run a was deleted/) as unknown]);
  });
});
