import { describe, expect, it } from "vitest";
import { useProxy } from "./proxy.js";

describe("NO_PROXY, as Go's httpproxy reads it", () => {
  it.each([
    ["api.example.com", "443", "", true],
    ["localhost", "443", "", false],
    ["127.0.0.2", "443", "", false],
    ["::1", "443", "", false],
    ["api.example.com", "443", "example.com", false],
    ["example.com", "443", "example.com", false],
    ["notexample.com", "443", "example.com", true],
    ["example.com", "443", ".example.com", true],
    ["a.example.com", "443", ".example.com", false],
    ["example.com", "443", "*.example.com", true],
    ["a.example.com", "443", "*.example.com", false],
    ["API.Example.com", "443", " other.org , EXAMPLE.com ", false],
    ["api.example.com", "6443", "example.com:443", true],
    ["api.example.com", "6443", "example.com:6443", false],
    ["10.0.0.1", "6443", "10.0.0.1", false],
    ["10.0.0.1", "6443", "10.0.0.1:443", true],
    ["10.0.0.1", "6443", "10.0.0.1:6443", false],
    ["10.0.0.1", "6443", "10.0.0.0/24", false],
    ["10.0.1.1", "6443", "10.0.0.0/24", true],
    ["fd00::5", "443", "fd00::/8", false],
    ["fd00::5", "443", "[fd00::5]:443", false],
    ["10.0.0.1", "443", "example.com", true],
    ["api.example.com", "443", "other.org,*", false],
  ])("%s:%s with NO_PROXY=%j: proxied %s", (host, port, noProxy, proxied) => {
    expect(useProxy(host, port, noProxy)).toBe(proxied);
  });
});
