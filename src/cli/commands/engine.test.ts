import { describe, expect, it } from "vitest";
import { applyStepArgs, planStepArgs } from "./engine.js";

describe("apply's two steps", () => {
  it.each([
    [["-var", "x=1", "-parallelism=3", "-no-color"], ["-var", "x=1", "-parallelism=3", "-no-color"], ["-parallelism=3", "-no-color"]],
    [["-lock-timeout", "30s", "-target=a.b", "-auto-approve"], ["-lock-timeout", "30s", "-target=a.b"], ["-lock-timeout", "30s"]],
    [["-input=false", "-compact-warnings", "-refresh=false"], ["-input=false", "-compact-warnings", "-refresh=false"], ["-input=false", "-compact-warnings"]],
  ])("%j: the plan takes %j, the apply of its saved plan %j", (args, plan, apply) => {
    expect(planStepArgs(args)).toEqual(plan);
    expect(applyStepArgs(args)).toEqual(apply);
  });
});
