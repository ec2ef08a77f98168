import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, UsageError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { splitEngineArgs } from "./engine-args.js";
import { writeLocalSettings } from "./local-settings.js";
import { connect, requireWorkspace, type Session } from "./session.js";
import type { Terminal } from "./output/terminal.js";

const t = { env: {}, cwd: "/nonexistent" } as unknown as Terminal;
const session = (served: boolean): Session => ({
  namespace: "team",
  server: "https://k8s:6443",
  client: {
    get: () => Promise.resolve(undefined),
    list: () => (served ? Promise.resolve({ items: [], resourceVersion: "1" }) : Promise.reject(new ApiError(404, "NotFound", "the server could not find the requested resource"))),
  } as unknown as KubeClient,
});

describe("a workspace that cannot be found", () => {
  it("is missing where ktf is installed", async () => {
    await expect(requireWorkspace(t, session(true), "net", "/nonexistent")).rejects.toThrow(new UsageError("workspace net does not exist in namespace team: create it with `ktf workspace new net`, or pick another with -n/--namespace"));
  });

  it("says that ktf is not installed where the cluster does not serve workspaces", async () => {
    await expect(requireWorkspace(t, session(false), "net", "/nonexistent")).rejects.toThrow(/ktf is not installed in the cluster at https:\/\/k8s:6443: it does not serve workspaces.ktf.dev; install it with `ktf install`/);
  });
});

describe("where a command's cluster, namespace and workspace come from: flag, else KTF_*, else the directory's selection", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ktf-session-"));
    const cluster = (name: string) => ({ name, cluster: { server: `https://${name}.example:6443` } });
    const context = (name: string) => ({ name, context: { cluster: name, namespace: `${name}-default` } });
    await writeFile(join(dir, "config"), JSON.stringify({ "current-context": "cur", clusters: ["cur", "dir", "env", "flag"].map(cluster), contexts: ["cur", "dir", "env", "flag"].map(context) }));
    await writeLocalSettings(dir, { workspace: "dir-ws", namespace: "dir-ns", context: "dir" });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const env = { KTF_NAMESPACE: "env-ns", KTF_CONTEXT: "env", KTF_WORKSPACE: "env-ws" };
  /** What an engine command in `dir` acts on, from its words and environment, without asking the cluster. */
  async function target(words: string[], environment: NodeJS.ProcessEnv) {
    const terminal = { env: { HOME: "/nonexistent", KUBECONFIG: join(dir, "config"), ...environment }, cwd: dir } as unknown as Terminal;
    const { options } = splitEngineArgs(words, terminal.env);
    const s = await connect(terminal, options, dir);
    let asked = "";
    const fake: Session = { ...s, client: { get: (_: unknown, _ns: string, name: string) => ((asked = name), Promise.resolve({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name }, spec: {} })) } as unknown as KubeClient };
    await requireWorkspace(terminal, fake, options.workspace, dir);
    return { namespace: s.namespace, context: /context (\S+)\)/.exec(s.server)?.[1], workspace: asked };
  }

  it.each([
    ["the directory's selection", [], {}, { namespace: "dir-ns", context: "dir", workspace: "dir-ws" }],
    ["the environment over the selection", [], env, { namespace: "env-ns", context: "env", workspace: "env-ws" }],
    ["flags over the environment", ["-n", "flag-ns", "--context=flag", "-w", "flag-ws"], env, { namespace: "flag-ns", context: "flag", workspace: "flag-ws" }],
    ["a flag for one, the environment for another", ["-w", "flag-ws"], { KTF_NAMESPACE: "env-ns" }, { namespace: "env-ns", context: "dir", workspace: "flag-ws" }],
  ])("%s", async (_, words, environment, expected) => {
    expect(await target(words, environment)).toEqual(expected);
  });

  it("takes KTF_KUBECONFIG as --kubeconfig: one file that must exist, whatever KUBECONFIG lists", async () => {
    await expect(target([], { KTF_KUBECONFIG: join(dir, "missing") })).rejects.toThrow(`kubeconfig ${join(dir, "missing")} does not exist`);
    await expect(target(["--kubeconfig", join(dir, "config")], { KTF_KUBECONFIG: join(dir, "missing") })).resolves.toMatchObject({ workspace: "dir-ws" });
  });
});
