import { EventEmitter } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { ENV, MOUNTS } from "./contract.js";
import { runRunner } from "./main.js";

describe("the runner", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("ends at once when told to stop before the engine has started", async () => {
    dir = await mkdtemp(join(tmpdir(), "ktf-runner-"));
    const mounts = { ...MOUNTS, work: join(dir, "work"), tmp: join(dir, "tmp"), cache: join(dir, "cache") };
    const job = { namespace: "n", run: "r", runUid: "u", workspace: "w", engine: "tofu", command: "plan", args: [], workingDir: ".", hclVariables: [], stateSecretSuffix: "w", stateAccess: "read" };
    const signals = new EventEmitter();
    // No state sidecar answers: the runner waits for it, as it does while the pod starts.
    const ended = runRunner({ env: { [ENV.job]: JSON.stringify(job), HOME: join(dir, "home") }, log: silentLogger(), stateUrl: "http://127.0.0.1:9", mounts, terminationLog: join(dir, "result"), signals });
    setTimeout(() => signals.emit("SIGTERM"), 200);
    expect(await ended).toBe(143);
    expect(JSON.parse(await readFile(join(dir, "result"), "utf8"))).toEqual({ exitCode: 143, error: "the run was stopped before the engine ran" });
  });
});
