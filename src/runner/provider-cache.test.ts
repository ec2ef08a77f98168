import { describe, expect, it } from "vitest";
import { poisonedCacheEntry } from "./provider-cache.js";

const BOXED = `╷
│ Error: Failed to install provider
│ 
│ Error while installing registry.ktf.dev/ktf/ktftest v0.1.0: existing cached
│ package at
│ /ktf/cache/plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64 does not
│ match the content of the downloaded package; does it contain local
│ modifications?
╵
`;

describe("poisonedCacheEntry", () => {
  it("finds the cached package the engine refused, across its wrapped lines", () => {
    expect(poisonedCacheEntry(BOXED, "/ktf/cache/plugins")).toBe("/ktf/cache/plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64");
  });

  it("reads it through the engine's colours", () => {
    const coloured = BOXED.replace(/│/g, "\u001b[31m│\u001b[0m");
    expect(poisonedCacheEntry(coloured, "/ktf/cache/plugins")).toBe("/ktf/cache/plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64");
  });

  it("names nothing outside the cache, nor the cache itself", () => {
    expect(poisonedCacheEntry(BOXED.replace("/ktf/cache/plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64", "/ktf/cache/plugins/../../work"), "/ktf/cache/plugins")).toBeUndefined();
    expect(poisonedCacheEntry(BOXED.replace("/ktf/cache/plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64", "/ktf/cache/plugins"), "/ktf/cache/plugins")).toBeUndefined();
    expect(poisonedCacheEntry("Error: something else", "/ktf/cache/plugins")).toBeUndefined();
  });
});
