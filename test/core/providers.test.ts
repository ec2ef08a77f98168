import { readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KTFTEST_REQUIRED, providerFixture } from "../harness/providers.js";
import { cacheVolume, workspaceFixture } from "../harness/workspace.js";

const CONFIG = `${KTFTEST_REQUIRED}
resource "ktftest_object" "greeting" {
  name    = "greeting"
  content = "hello from a real provider"
}
`;

/** All recorded hashes of the lock file replaced: one that matches would accept the package. */
const tamper = (lock: string) => lock.replace(/hashes = \[[^\]]*\]/, `hashes = ["h1:${"A".repeat(43)}="]`);

describe("a real provider from a mirror", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let p: Awaited<ReturnType<typeof providerFixture>>;
  let cache: Awaited<ReturnType<typeof cacheVolume>>;
  beforeAll(async () => {
    w = await workspaceFixture("providers", { "main.tf": CONFIG });
    p = await providerFixture(w);
    cache = await cacheVolume(w);
  });
  afterAll(async () => {
    await p.stop();
    await w.cleanup();
    await cache.remove();
  });

  it("is installed by init, whose lock file comes back to the directory", async () => {
    const lockPath = join(w.dir, ".terraform.lock.hcl");
    const init = await w.ktf(["init"]);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    expect(init.stderr).toContain(`ktf: wrote .terraform.lock.hcl in ${w.dir}`);
    const lock = await readFile(lockPath, "utf8");
    expect(lock).toMatch(/provider "registry\.ktf\.dev\/ktf\/ktftest" \{\s+version\s+= "0\.1\.0"/);
    expect(lock).toMatch(/"h1:[A-Za-z0-9+/]{43}="/);
    expect(p.mirror.downloads()).toBe(1);
    // Unchanged, it is not written again.
    const again = await w.ktf(["init"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain(".terraform.lock.hcl in");
  });

  it("comes from the workspace's cache on the next runs: no download", async () => {
    const before = p.mirror.downloads();
    const apply = await w.ktf(["apply", "-auto-approve"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/ktftest_object\.greeting: Creation complete/);
    expect(p.objects.objects.get("greeting")).toBe("hello from a real provider");
    expect(p.mirror.downloads()).toBe(before);
    expect(existsSync(join(cache.hostDir, "plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64"))).toBe(true);
  });

  it("is never run from the cache when something there replaced it, and the cache heals", async () => {
    // What a run's code could leave behind for the next run: a "provider" that leaves a mark.
    const dir = "/ktf/cache/plugins/registry.ktf.dev/ktf/ktftest/0.1.0/linux_amd64";
    const plant = await w.ktf(["sh", "--", "sh", "-c", `for f in ${dir}/*; do printf '#!/bin/sh\\ntouch /ktf/cache/planted-ran\\nexit 1\\n' > "$f"; done`]);
    expect(plant.code, plant.stderr).toBe(0);
    // The engine compares it with the download and refuses it; ktf removes it, and init again fetches the real one.
    const before = p.mirror.downloads();
    const plan = await w.ktf(["plan"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stderr).toContain("ktf: A cached provider did not match its download (something had replaced it): removed it, and init runs again");
    expect(p.mirror.downloads()).toBeGreaterThan(before);
    const ran = await w.ktf(["sh", "--", "sh", "-c", "test -e /ktf/cache/planted-ran && echo RAN || echo NOT-RAN"]);
    expect(ran.stdout, ran.stderr).toBe("NOT-RAN\n");
  });

  it("is refused when the lock file's hashes do not match, with the engine's message", async () => {
    const lockPath = join(w.dir, ".terraform.lock.hcl");
    const good = await readFile(lockPath, "utf8");
    await writeFile(lockPath, tamper(good));
    const init = await w.ktf(["init"]);
    expect(init.code).toBe(1);
    expect(init.stdout + init.stderr).toMatch(/checksums? .*recorded in the dependency lock file/);
    // A failed init writes nothing back; the plan fails the same way.
    expect(await readFile(lockPath, "utf8")).toBe(tamper(good));
    const plan = await w.ktf(["plan"]);
    expect(plan.code).toBe(1);
    await writeFile(lockPath, good);
  });

  it("rewrites the lock file for providers lock when it changes", async () => {
    const lockPath = join(w.dir, ".terraform.lock.hcl");
    await rm(lockPath);
    // Like the engine, providers lock asks the origin registry unless told of the mirror.
    const lock = await w.ktf(["providers", "lock", `-net-mirror=${p.mirror.url}`, "-platform=linux_amd64"]);
    expect(lock.code, lock.stdout + lock.stderr).toBe(0);
    expect(lock.stderr).toContain("ktf: wrote .terraform.lock.hcl");
    expect(await readFile(lockPath, "utf8")).toMatch(/registry\.ktf\.dev\/ktf\/ktftest/);
  });
});
