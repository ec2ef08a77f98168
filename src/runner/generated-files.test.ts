import { describe, expect, it } from "vitest";
import { backendOverride, hclVariables } from "./generated-files.js";

describe("backendOverride", () => {
  it("quotes values so that they cannot break out of the string", () => {
    const text = backendOverride({ namespace: "team-a", secretSuffix: 'x"${y}' });
    expect(text).toContain('secret_suffix     = "x\\"$${y}"');
    expect(text).toContain('namespace         = "team-a"');
    expect(text).toContain("in_cluster_config = true");
  });
});

describe("hclVariables", () => {
  it("writes each expression as it is", () => {
    expect(hclVariables({ tags: '{ env = "prod" }', n: "3" })).toBe('tags = { env = "prod" }\nn = 3\n');
  });
});
