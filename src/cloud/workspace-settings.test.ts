import { describe, expect, it } from "vitest";
import { workspaceSchema } from "../api/workspace.js";
import { desiredSettings, settingsDrift } from "./workspace-settings.js";

const ws = (cloud: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
  workspaceSchema.parse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "net", namespace: "team-a" }, spec: { cloud: { organization: "acme", ...cloud }, ...spec } });

describe("desiredSettings", () => {
  it("names the TFC workspace <namespace>-<name> and maps applyMethod to auto-apply", () => {
    expect(desiredSettings(ws({ applyMethod: "auto", tags: ["b", "a", "b"] }, { workingDir: "infra" }))).toEqual({
      name: "team-a-net",
      executionMode: "remote",
      autoApply: true,
      workingDirectory: "infra",
      tags: ["a", "b"],
    });
    expect(desiredSettings(ws({ workspace: "network" })).name).toBe("network");
  });

  it("refuses an agent pool without agent execution, naming the field", () => {
    const parsed = workspaceSchema.safeParse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "n" }, spec: { cloud: { organization: "acme", agentPool: "apool-1" } } });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain("agentPool is set exactly when executionMode is agent");
  });
});

describe("settingsDrift", () => {
  it("names what differs, tags as a set, and leaves an unset engine version alone", () => {
    const desired = desiredSettings(ws({ tags: ["x", "y"] }));
    expect(settingsDrift(desired, { ...desired, tags: ["y", "x"], terraformVersion: "1.5.7" })).toEqual([]);
    expect(settingsDrift(desired, { ...desired, autoApply: true, tags: ["x"] })).toEqual(["autoApply", "tags"]);
  });
});
