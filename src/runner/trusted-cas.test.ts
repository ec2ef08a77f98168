import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { trustingExtraCAs } from "./trusted-cas.js";

describe("trustingExtraCAs", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ktf-cas-"));
    await writeFile(join(dir, "roots.pem"), "ROOTS");
    await writeFile(join(dir, "extra.pem"), "EXTRA\n");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("adds the extra certificates to the system's roots, as SSL_CERT_FILE", async () => {
    const env = await trustingExtraCAs({ PATH: "/bin" }, dir, { extra: join(dir, "extra.pem"), roots: join(dir, "roots.pem") });
    expect(env.PATH).toBe("/bin");
    expect(await readFile(env.SSL_CERT_FILE ?? "", "utf8")).toBe("ROOTS\nEXTRA\n");
  });

  it("changes nothing without extra certificates", async () => {
    const env = { PATH: "/bin" };
    expect(await trustingExtraCAs(env, dir, { extra: join(dir, "none.pem"), roots: join(dir, "roots.pem") })).toBe(env);
  });
});
