import { describe, expect, it } from "vitest";
import { ApiError, UsageError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { requireWorkspace, type Session } from "./session.js";
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
