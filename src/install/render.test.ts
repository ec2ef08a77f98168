import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { deployFiles } from "./render.js";

describe("deploy/", () => {
  it.each(Object.entries(deployFiles()))("%s matches the schemas (run `npm run generate` when this fails)", (path, text) => {
    const committed = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
    expect(committed).toBe(text);
  });
});
