import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { parseOrThrow } from "./validate.js";
import { workspaceSpecSchema } from "./workspace.js";
import { runSpecSchema } from "./run.js";
import { DEFAULT_PRIVILEGED_COMMANDS, stateAccess } from "./commands.js";

function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error("expected a ValidationError");
}

describe("parseOrThrow", () => {
  it.each([
    [{ variables: [{ name: "a", value: "1" }, { name: "b", value: "2" }, { name: 3, value: "x" }] }, "spec.variables[2].name: expected string, received number"],
    [{ engine: { name: "opentofu" } }, 'spec.engine.name: expected one of "tofu"|"terraform"'],
    [{ variables: [{ name: "a" }] }, "spec.variables[0]: set exactly one of value and valueFrom"],
    [{ workingDir: "../up" }, "spec.workingDir: expected a relative path inside the configuration"],
    [{ cache: { size: "lots" } }, "spec.cache.size: expected a quantity such as 1Gi or 500m"],
  ])("names the field and what was expected: %j", (spec, expected) => {
    expect(issuesOf(() => parseOrThrow(workspaceSpecSchema, spec, "workspace", ["spec"]))).toContain(expected);
  });

  it("fills defaults", () => {
    const spec = parseOrThrow(workspaceSpecSchema, {}, "workspace");
    expect(spec.engine.name).toBe("tofu");
    expect(spec.privilegedCommands).toContain("apply");
  });

  it("rejects planRun on anything but apply", () => {
    expect(issuesOf(() => parseOrThrow(runSpecSchema, { workspace: "w", command: "plan", planRun: "p" }, "run", ["spec"]))).toEqual([
      "spec.planRun: planRun is only valid for the apply command",
    ]);
  });
});

describe("state access per command", () => {
  it.each([
    ["plan", [], "read"],
    ["test", [], "read"],
    ["console", [], "read"],
    ["show", ["-json"], "read"],
    ["state", ["pull"], "read"],
    ["state", ["list"], "read"],
    ["output", [], "read"],
    ["apply", [], "write"],
    ["destroy", [], "write"],
    ["refresh", [], "write"],
    ["import", ["a.b", "id"], "write"],
    ["taint", ["a.b"], "write"],
    ["state", ["rm", "a.b"], "write"],
    ["state", ["push", "f"], "write"],
    ["state", ["rollback", "3"], "write"],
    ["force-unlock", ["-force", "id"], "unlock"],
  ] as const)("%s %j: %s", (command, args, access) => {
    expect(stateAccess(command, args)).toBe(access);
  });

  it("makes refresh and test privileged by default", () => {
    expect(DEFAULT_PRIVILEGED_COMMANDS).toEqual(expect.arrayContaining(["refresh", "test"]));
  });
});
