import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { collect, envName, fillFromEnv, optionsFromEnv, type EnvOption } from "./env-options.js";

const TABLE: EnvOption[] = [
  { long: "--namespace", key: "namespace", kind: "value" },
  { long: "--as-group", key: "asGroup", kind: "list" },
  { long: "--detach", key: "detach", kind: "switch" },
  { long: "--no-select", key: "select", kind: "switch", negate: true },
];

describe("options from the environment", () => {
  it.each([
    ["--namespace", "KTF_NAMESPACE"],
    ["--as-group", "KTF_AS_GROUP"],
    ["-chdir", "KTF_CHDIR"],
    ["--no-select", "KTF_NO_SELECT"],
  ])("%s is read from %s", (long, name) => {
    expect(envName(long)).toBe(name);
  });

  it.each([
    [{ KTF_NAMESPACE: "team" }, { namespace: "team" }],
    [{ KTF_AS_GROUP: "dev, ops,," }, { asGroup: ["dev", "ops"] }],
    [{ KTF_DETACH: "1" }, { detach: true }],
    [{ KTF_DETACH: "true" }, { detach: true }],
    [{ KTF_DETACH: "0" }, { detach: false }],
    [{ KTF_DETACH: "false" }, { detach: false }],
    [{ KTF_NO_SELECT: "true" }, { select: false }],
    [{ KTF_NO_SELECT: "0" }, { select: true }],
    [{ KTF_NAMESPACE: "", KTF_DETACH: "" }, {}],
    [{ NAMESPACE: "team", KTF_RUN: "{}", KTF_DEBUG: "1" }, {}],
  ])("%j sets %j", (env, values) => {
    expect(optionsFromEnv(TABLE, env)).toEqual(values);
  });

  it.each(["yes", "TRUE", "on", "2"])("refuses KTF_DETACH=%s, naming the variable and what it expects", (text) => {
    expect(() => optionsFromEnv(TABLE, { KTF_DETACH: text })).toThrow(`KTF_DETACH expects true, false, 1 or 0, got "${text}"`);
  });
});

describe("a commander command's options", () => {
  const parsed = (args: string[], env: NodeJS.ProcessEnv) => {
    const cmd = new Command("x")
      .option("-n, --namespace <ns>", "")
      .option("--operator-namespace <ns>", "", "ktf-system")
      .option("--backup <url>", "", collect)
      .option("--force", "")
      .option("--no-select", "")
      .exitOverride()
      .action(() => undefined);
    cmd.hook("preAction", (_, action) => fillFromEnv(action, env));
    cmd.parse(args, { from: "user" });
    return cmd.opts();
  };

  it("come from the environment under the command line, over the defaults", () => {
    const env = { KTF_NAMESPACE: "env", KTF_OPERATOR_NAMESPACE: "ops", KTF_BACKUP: "s3://a/b,gs://c/d", KTF_FORCE: "1", KTF_NO_SELECT: "1" };
    expect(parsed([], env)).toEqual({ namespace: "env", operatorNamespace: "ops", backup: ["s3://a/b", "gs://c/d"], force: true, select: false });
    expect(parsed(["-n", "flag", "--backup", "s3://x/y", "--operator-namespace=o2"], env)).toEqual({ namespace: "flag", operatorNamespace: "o2", backup: ["s3://x/y"], force: true, select: false });
    expect(parsed([], {})).toEqual({ operatorNamespace: "ktf-system", select: true });
  });
});
