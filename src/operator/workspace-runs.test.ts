import { describe, expect, it } from "vitest";
import { API_VERSION } from "../api/group.js";
import type { Workspace } from "../api/workspace.js";
import { runsOfWorkspace } from "./workspace-runs.js";

const ws = { metadata: { name: "app", namespace: "team" } } as Workspace;
const run = (name: string, workspace: string) => ({ apiVersion: API_VERSION, kind: "Run", metadata: { name, namespace: "team" }, spec: { workspace, command: "plan" } });

describe("runsOfWorkspace", () => {
  it("parses only the runs of the workspace", async () => {
    let parsedOthers = 0;
    // A run of another workspace whose metadata counts its readers: only a parse reads it.
    const other = { ...run("db-1", "db"), get metadata() {
      parsedOthers++;
      return { name: "db-1", namespace: "team" };
    } };

    const runs = await runsOfWorkspace(() => Promise.resolve([run("app-1", "app"), other, { kind: "not a run" }, run("app-2", "app")]), ws);

    expect(runs.map((r) => r.metadata.name)).toEqual(["app-1", "app-2"]);
    expect(parsedOthers).toBe(0);
  });
});
