import { describe, expect, it } from "vitest";
import { cloudRunRequest } from "./run-args.js";

describe("cloudRunRequest", () => {
  it("makes ktf plan a speculative run, and plan -out a plan kept for its apply", () => {
    expect(cloudRunRequest("plan", [])).toMatchObject({ planOnly: true, autoApply: false, isDestroy: false, refresh: true });
    expect(cloudRunRequest("plan", [], true)).toMatchObject({ planOnly: false, autoApply: false });
  });

  it("applies a run of apply or destroy once planned: the CLI asked before creating it", () => {
    expect(cloudRunRequest("apply", ["-auto-approve"])).toMatchObject({ planOnly: false, autoApply: true, isDestroy: false });
    expect(cloudRunRequest("destroy", [])).toMatchObject({ autoApply: true, isDestroy: true });
  });

  it("takes -target, -replace, -refresh, -destroy and -detailed-exitcode, in both spellings", () => {
    const r = cloudRunRequest("plan", ["-target=a.b", "-target", "c.d", "--replace=e.f", "-refresh=false", "-destroy", "-detailed-exitcode", "-input=false", "-no-color", "-lock-timeout", "5m"]);
    expect(r).toEqual({ planOnly: true, isDestroy: true, autoApply: false, refresh: false, targetAddrs: ["a.b", "c.d"], replaceAddrs: ["e.f"], detailedExitCode: true });
    expect(cloudRunRequest("plan", ["-refresh"]).refresh).toBe(true);
  });

  it("refuses what TFC's runs cannot take, naming the flag or the command", () => {
    expect(() => cloudRunRequest("plan", ["-var", "a=b"])).toThrow(/-var is not taken by a TFC run: set the workspace's variables in its spec.variables/);
    expect(() => cloudRunRequest("plan", ["-var-file=x.tfvars"])).toThrow(/-var-file is not taken/);
    expect(() => cloudRunRequest("plan", ["-generate-config-out=x.tf"])).toThrow(/-generate-config-out is not a flag a TFC run takes; it takes -target/);
    expect(() => cloudRunRequest("apply", ["-destroy"])).toThrow(/-destroy is not a flag a TFC run takes/);
    expect(() => cloudRunRequest("plan", ["-target"])).toThrow(/-target needs a value/);
    expect(() => cloudRunRequest("plan", ["plan.tfplan"])).toThrow(/"plan.tfplan" is not a flag/);
    expect(() => cloudRunRequest("state", ["list"])).toThrow(/state does not run on a TFC workspace/);
  });
});
