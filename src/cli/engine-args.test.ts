import { describe, expect, it } from "vitest";
import { hasFlag, hoistLeadingOptions, splitEngineArgs, takeFlag } from "./engine-args.js";

describe("splitEngineArgs", () => {
  it.each([
    [["-var", "x=1"], {}, ["-var", "x=1"]],
    [["-n", "team", "-var", "x=1", "--", "-target=a"], { namespace: "team" }, ["-var", "x=1", "-target=a"]],
    [["--workspace=prod", "-destroy"], { workspace: "prod" }, ["-destroy"]],
    [["--context", "kind", "--kubeconfig=/k", "--detach"], { context: "kind", kubeconfig: "/k", detach: true }, []],
    [["-chdir=infra", "list"], { chdir: "infra" }, ["list"]],
    [["--", "-n", "x"], {}, ["-n", "x"]],
    [["--as", "jane", "--as-group=dev", "-var", "x=1", "--as-group", "ops"], { as: "jane", asGroup: ["dev", "ops"] }, ["-var", "x=1"]],
  ])("%j", (words, options, engineArgs) => {
    expect(splitEngineArgs(words)).toEqual({ options, engineArgs });
  });

  it("rejects a ktf option without a value", () => {
    expect(() => splitEngineArgs(["-n"])).toThrow("-n needs a value");
  });
});

describe("splitEngineArgs with ktf's options in the environment", () => {
  const env = { KTF_NAMESPACE: "env-ns", KTF_WORKSPACE: "env-ws", KTF_DETACH: "1", KTF_AS_GROUP: "dev,ops", KTF_CHDIR: "infra", KTF_VAR: "x=1", KTF_TARGET: "a" };

  it.each([
    [["-var", "x=1", "-target=a"], { namespace: "env-ns", workspace: "env-ws", detach: true, asGroup: ["dev", "ops"], chdir: "infra" }, ["-var", "x=1", "-target=a"]],
    [["-n", "flag-ns", "-var", "x=1", "--as-group=qa"], { namespace: "flag-ns", workspace: "env-ws", detach: true, asGroup: ["qa"], chdir: "infra" }, ["-var", "x=1"]],
    [["--", "-n", "x"], { namespace: "env-ns", workspace: "env-ws", detach: true, asGroup: ["dev", "ops"], chdir: "infra" }, ["-n", "x"]],
  ])("%j: the flags win, and the engine's arguments are exactly the words'", (words, options, engineArgs) => {
    expect(splitEngineArgs(words, env)).toEqual({ options, engineArgs });
  });

  it("turns no variable into an engine argument (KTF_VAR, KTF_TARGET are no ktf options)", () => {
    expect(splitEngineArgs([], { KTF_VAR: "x=1", KTF_TARGET: "a", KTF_OUT: "p" })).toEqual({ options: {}, engineArgs: [] });
  });

  it("refuses a switch that is not true, false, 1 or 0", () => {
    expect(() => splitEngineArgs(["-var", "x=1"], { KTF_DETACH: "yes" })).toThrow('KTF_DETACH expects true, false, 1 or 0, got "yes"');
  });
});

describe("hoistLeadingOptions", () => {
  it.each([
    [["-n", "team", "plan", "-var", "x=1"], ["plan", "-var", "x=1", "-n", "team"]],
    [["--kubeconfig=/k", "--context", "c", "runs", "list"], ["runs", "list", "--kubeconfig=/k", "--context", "c"]],
    [["-chdir=infra", "plan", "--", "-target=a"], ["plan", "-chdir=infra", "--", "-target=a"]],
    [["plan", "-n", "team"], ["plan", "-n", "team"]],
    [["--as", "jane", "--as-group=dev", "plan"], ["plan", "--as", "jane", "--as-group=dev"]],
    [["--version"], ["--version"]],
    [["workspace", "new", "a", "-n", "x"], ["workspace", "new", "a", "-n", "x"]],
  ])("%j", (argv, words) => {
    expect(hoistLeadingOptions(argv)).toEqual(words);
  });
});

describe("flags", () => {
  it("finds single- and double-dash forms", () => {
    expect(hasFlag(["-auto-approve"], "auto-approve")).toBe(true);
    expect(hasFlag(["--auto-approve=true"], "auto-approve")).toBe(true);
    expect(hasFlag(["-auto"], "auto-approve")).toBe(false);
  });

  it("takes a flag out", () => {
    expect(takeFlag(["-out=p", "-var", "a=1"], "out")).toEqual({ value: "p", rest: ["-var", "a=1"] });
    expect(takeFlag(["-out", "p"], "out")).toEqual({ value: "p", rest: [] });
  });
});
