import { describe, expect, it } from "vitest";
import { backendOverride, hclString, hclVariables } from "./generated-files.js";

describe("backendOverride", () => {
  it("points the engine's http backend at the state sidecar", () => {
    const text = backendOverride({ port: 8471 });
    expect(text).toContain('backend "http"');
    expect(text).toContain('address        = "http://127.0.0.1:8471/state"');
    expect(text).toContain('lock_address   = "http://127.0.0.1:8471/lock"');
  });
});

describe("hclString", () => {
  it("quotes values so that they cannot break out of the string", () => {
    expect(hclString('x"${y}%{z}')).toBe('"x\\"$${y}%%{z}"');
  });
});

describe("hclVariables", () => {
  it("writes each expression as it is", () => {
    expect(hclVariables({ tags: '{ env = "prod" }', n: "3" })).toBe('tags = { env = "prod" }\nn = 3\n');
  });
});
