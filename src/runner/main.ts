import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { assembleChunks } from "../archive/chunks.js";
import { unpackArchive } from "../archive/unpack.js";
import { parseOrThrow } from "../api/validate.js";
import { errorMessage, KtfError } from "../errors.js";
import { ERRORED_PATH, LOCK_PATH, PLAN_PATH, PLAN_SUMMARY_HEADER } from "../state/http-backend.js";
import { stateDigest, stateHeader, withHeader } from "../state/state-file.js";
import { isInteractive, sealsOutput, writesLockFile } from "../api/commands.js";
import { LOCK_FILE, lockFileFrame, type OutputStream } from "../run-log/frames.js";
import { removePoisonedEntry } from "./provider-cache.js";
import { Sealer } from "../seal/sealed-log.js";
import type { LockInfo } from "../state/state-lock.js";
import type { Logger } from "../log.js";
import { pollUntil } from "../sleep.js";
import { ENV, MOUNTS, STATE_PORT, runnerJobSchema, type RunnerJob, type RunnerResult } from "./contract.js";
import { engineOutput, engineResult, engineVersion, startEngine, writeFramed, type EngineProcess } from "./engine.js";
import { BACKEND_FILE, HCL_VARIABLES_FILE, backendOverride, hclVariables } from "./generated-files.js";
import { PrintedSummaries, savedPlanMismatch, summarizePlan } from "./plan-summary.js";
import { trustingExtraCAs } from "./trusted-cas.js";

export interface RunnerOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The state sidecar, on the pod's loopback. */
  stateUrl?: string;
  mounts?: Record<keyof typeof MOUNTS, string>;
  /** Where the kubelet reads the container's result from. */
  terminationLog?: string;
  /** Signals that ask the run to stop (SIGTERM when the pod is deleted). */
  signals?: NodeJS.EventEmitter;
}

/** Commands that run without `init` first; `validate` needs an init without the backend. */
const NO_INIT = new Set(["init", "fmt", "version"]);
const PLAN_FILE = "ktf.tfplan";

/**
 * What runs in the run pod: unpack and verify the configuration, point the engine at the
 * built-in state backend, init, run the command with the engine's output going straight
 * to the pod log, save the plan when asked, and report the result. Returns the exit code
 * the container must end with: the engine's own.
 */
export async function runRunner(o: RunnerOptions): Promise<number> {
  const mounts = o.mounts ?? MOUNTS;
  const terminationLog = o.terminationLog ?? "/dev/termination-log";
  let result: RunnerResult;
  // A stop (the run canceled, its pod deleted) before or after the engine ends the run at
  // once; while the engine runs, runInterruptible passes it on to the engine instead.
  const stop = new AbortController();
  const signals = o.signals ?? process;
  const onStop = () => stop.abort();
  signals.on("SIGTERM", onStop);
  try {
    const job = parseOrThrow(runnerJobSchema, JSON.parse(o.env[ENV.job] ?? "null"), `${ENV.job} environment variable`);
    result = await execute(job, o, mounts, stop.signal);
  } catch (err) {
    const message = stop.signal.aborted ? "the run was stopped before the engine ran" : errorMessage(err);
    o.log.error({ err: message }, "Run failed before the engine finished");
    writeFramed(process.stdout, [["stderr", `ktf: ${message}\n`]]);
    result = { exitCode: stop.signal.aborted ? 143 : 1, error: message.slice(0, 1000) };
  } finally {
    signals.off("SIGTERM", onStop);
  }
  stopStrayProcesses();
  await writeFile(terminationLog, JSON.stringify(result)).catch((err: unknown) => {
    o.log.warn({ err: errorMessage(err) }, "Cannot write the termination message");
  });
  return result.exitCode;
}

async function execute(job: RunnerJob, o: RunnerOptions, mounts: Record<keyof typeof MOUNTS, string>, stopped: AbortSignal): Promise<RunnerResult> {
  const configDir = join(mounts.work, "config");
  await mkdir(configDir, { recursive: true });
  await mkdir(o.env.HOME ?? join(mounts.tmp, "home"), { recursive: true });
  const cacheDir = o.env.TF_PLUGIN_CACHE_DIR;
  if (cacheDir) {
    await mkdir(cacheDir, { recursive: true }).catch((err: unknown) => {
      throw new KtfError(`the provider cache volume is not writable by the run (uid ${process.getuid?.() ?? "?"}): ${errorMessage(err)}`);
    });
  }
  if (job.archive) {
    const bytes = await assembleChunks(mounts.archive, job.archive);
    stopped.throwIfAborted();
    await unpackArchive(bytes, configDir);
    o.log.debug({ digest: job.archive.digest, size: job.archive.size }, "Unpacked the configuration");
  }
  const cwd = join(configDir, job.workingDir);
  if (!(await stat(cwd).catch(() => undefined))?.isDirectory()) {
    throw new KtfError(`the working directory ${job.workingDir} does not exist in the configuration`);
  }
  const binary = job.engine;
  const env = await trustingExtraCAs(engineEnv(o.env), mounts.tmp);
  if (job.engineVersion) {
    const actual = await engineVersion(binary, env, stopped);
    if (actual !== job.engineVersion.replace(/^v/, "")) {
      throw new KtfError(`the workspace asks for ${binary} ${job.engineVersion} but this run image has ${actual}; set spec.image to an image with that version`);
    }
  }
  // fmt looks only at the user's files: ktf's own would show up in what it lists and checks.
  if (job.command !== "fmt") {
    await writeFile(join(cwd, BACKEND_FILE), backendOverride({ port: STATE_PORT }));
    const hcl = Object.fromEntries(job.hclVariables.map((name) => [name, o.env[`${ENV.hclVariablePrefix}${name}`] ?? ""]));
    if (job.hclVariables.length) await writeFile(join(cwd, HCL_VARIABLES_FILE), hclVariables(hcl), { mode: 0o600 });
  }

  await waitForStateServer(stateUrl(o), stopped);
  stopped.throwIfAborted();
  const signals = o.signals ?? process;
  const sealer = sealerFor(job);
  const printed = new PrintedSummaries();
  const savesPlan = job.command === "plan" && Boolean(job.savePlanAs);
  // Kept for what the runner reads in it: the plan's summaries, a cached provider refused.
  let output = "";
  const onOutput = (stream: OutputStream, text: string) => {
    if (savesPlan && stream === "stdout") printed.push(text);
    if (job.command === "init") output = (output + text).slice(-64 * 1024);
  };
  const run = async (command: string, args: string[]) =>
    runInterruptible(startEngine(command, args, { cwd, env, terminal: isInteractive(job.command, job.args), onOutput, ...(sealer ? { sealer } : {}) }), signals);

  const lockFile = join(cwd, LOCK_FILE);
  const lockedBefore = await readFile(lockFile, "utf8").catch(() => undefined);
  if (!NO_INIT.has(job.command)) {
    // Like a local engine whose directory is already initialised, the command's output
    // is the command's own: init's output is shown only when init fails.
    const initArgs = job.command === "validate" ? ["init", "-input=false", "-backend=false"] : ["init", "-input=false"];
    let init = await engineResult(binary, initArgs, { cwd, env, signal: stopped });
    if (init.code !== 0 && (await healCache(o, outputText(init.output), cacheDir, ", and init runs again"))) {
      init = await engineResult(binary, initArgs, { cwd, env, signal: stopped });
    }
    if (init.code !== 0) {
      writeFramed(process.stdout, init.output);
      return { exitCode: init.code, error: `init failed with exit code ${init.code}` };
    }
  }

  const planPath = join(mounts.work, PLAN_FILE);
  if (job.plan) {
    const bytes = await assembleChunks(mounts.plan, job.plan);
    await writeFile(planPath, bytes, { mode: 0o600 });
  }
  const pushPath = job.push ? await preparePush(o, job.push, mounts) : undefined;
  stopped.throwIfAborted();
  const exitCode = job.command === "sh" ? await run(job.args[0] ?? "bash", job.args.slice(1)) : await run(binary, commandLine(job, planPath, pushPath));
  // From here on only ktf's code runs in this container: what the configuration started is stopped.
  stopStrayProcesses();
  if (job.command === "force-unlock" && exitCode !== 0) await explainLock(stateUrl(o));
  if (exitCode === 0 && writesLockFile(job.command, job.args)) await reportLockFile(lockFile, lockedBefore);
  if (exitCode !== 0 && job.command === "init") await healCache(o, output, cacheDir, "; init again");
  await keepErroredState(o, cwd);
  if (savesPlan && (exitCode === 0 || exitCode === 2)) {
    printed.end();
    const refused = await savePlan(o, planPath, { cwd, env, binary }, printed.found);
    if (refused) {
      writeFramed(process.stdout, [["stderr", `ktf: ${refused}\n`]]);
      return { exitCode: 1, error: refused };
    }
  }
  return { exitCode };
}

/** Output that carries the state is sealed to the key its creator put in the run, and is never shown in clear. */
function sealerFor(job: RunnerJob): Sealer | undefined {
  if (!sealsOutput(job.command, job.args)) return undefined;
  if (!job.outputKey) {
    throw new KtfError(`the output of ${job.command} carries the state's values, so it is only sealed to its creator: the run needs spec.outputKey (ktf sets it)`);
  }
  return new Sealer(job.outputKey);
}

/** The engine's arguments: the user's, untouched, plus the saved plan ktf manages. */
function commandLine(job: RunnerJob, planPath: string, pushPath: string | undefined): string[] {
  if (pushPath) return ["state", "push", pushPath];
  const args = [job.command, ...job.args];
  if (job.command === "plan" && job.savePlanAs && !job.args.some((a) => a.startsWith("-out"))) args.push(`-out=${planPath}`);
  if (job.command === "apply" && job.plan) args.push(planPath);
  return args;
}

/**
 * `state rollback` and `state recover`: the stored state, checked against its digest, as a
 * file for `state push`. A rollback continues the current state (its lineage, the next
 * serial), so the engine accepts it as the newest write.
 */
async function preparePush(o: RunnerOptions, ref: NonNullable<RunnerJob["push"]>, mounts: Record<keyof typeof MOUNTS, string>): Promise<string> {
  const parts: Buffer[] = [];
  for (let i = 0; i < ref.chunks; i++) parts.push(await readFile(join(mounts.push, String(i))));
  let bytes: Buffer = gunzipSync(Buffer.concat(parts));
  if (stateDigest(bytes) !== ref.digest) throw new KtfError(`the stored state ${ref.name} does not match its digest ${ref.digest}`);
  if (ref.newSerial) {
    const res = await fetch(`${stateUrl(o)}/state`);
    if (res.status === 200) {
      const current = stateHeader(Buffer.from(await res.arrayBuffer()));
      bytes = withHeader(bytes, { serial: current.serial + 1, lineage: current.lineage });
    }
  }
  const path = join(mounts.work, "ktf-push.tfstate");
  await writeFile(path, bytes, { mode: 0o600 });
  return path;
}

/**
 * Hands the plan file to the state sidecar, which keeps it as the run's Secrets and
 * reports its digest and this summary to the operator. Only one post is accepted per run,
 * so a plan posted by the configuration's code makes the run's plan unusable, not swapped.
 * A plan file that is not the plan the engine showed is not posted: the reason is returned.
 */
async function savePlan(o: RunnerOptions, planPath: string, engine: { cwd: string; env: NodeJS.ProcessEnv; binary: string }, printed: Parameters<typeof savedPlanMismatch>[1]): Promise<string | undefined> {
  // Read once: the summary and the post are of these bytes, whatever `show`'s providers do to the file.
  const bytes = await readFile(planPath);
  const copy = `${planPath}.saved`;
  await writeFile(copy, bytes, { mode: 0o600 });
  const summary = summarizePlan(JSON.parse(await engineOutput(engine.binary, ["show", "-json", copy], engine)) as object);
  // `show` started the providers again.
  stopStrayProcesses();
  const mismatch = savedPlanMismatch(summary, printed);
  if (mismatch) return mismatch;
  const res = await fetch(`${stateUrl(o)}${PLAN_PATH}`, { method: "POST", body: bytes, headers: { [PLAN_SUMMARY_HEADER]: JSON.stringify(summary) } });
  if (!res.ok) throw new KtfError(`the state sidecar could not save the plan: ${res.status} ${await res.text()}`);
  return undefined;
}

/**
 * An engine that could not save its state (the API refused, the server was down) leaves
 * it in errored.tfstate: the sidecar keeps it in the cluster before the pod goes away.
 */
async function keepErroredState(o: RunnerOptions, cwd: string): Promise<void> {
  const bytes = await readFile(join(cwd, "errored.tfstate")).catch(() => undefined);
  if (!bytes) return;
  const res = await fetch(`${stateUrl(o)}${ERRORED_PATH}`, { method: "POST", body: bytes }).catch((err: unknown) => ({ ok: false, status: 0, text: () => Promise.resolve(errorMessage(err)) }));
  // Kept, the operator says where and how to push it back; lost, this is the last word on it.
  if (!res.ok) o.log.error({ err: `${res.status} ${await res.text()}` }, "The engine could not save the state, and ktf could not keep it either");
}

/**
 * Ends every other process of this container: the configuration's code may have left
 * some behind (an `external` program's child) to tamper with what the runner reads next.
 * Only as PID 1, the container's own init, where kill(-1) reaches this container alone.
 */
function stopStrayProcesses(): void {
  if (process.pid !== 1) return;
  try {
    process.kill(-1, "SIGKILL");
  } catch {
    // ESRCH: nothing else runs.
  }
}

/** Removes a cached provider the engine refused (src/runner/provider-cache.ts) and says so; whether it did. */
async function healCache(o: RunnerOptions, output: string, cacheDir: string | undefined, then: string): Promise<boolean> {
  const removed = await removePoisonedEntry(output, cacheDir);
  if (removed) o.log.warn({ entry: removed }, `A cached provider did not match its download (something had replaced it): removed it${then}`);
  return Boolean(removed);
}

function outputText(chunks: [OutputStream, Buffer][]): string {
  return Buffer.concat(chunks.map(([, b]) => b)).toString("utf8");
}

/** The lock file goes back to the CLI when the command changed it (or made it). */
async function reportLockFile(path: string, before: string | undefined): Promise<void> {
  const after = await readFile(path, "utf8").catch(() => undefined);
  if (after !== undefined && after !== before) process.stdout.write(`${lockFileFrame(after)}\n`);
}

/** The engine only says "Unexpected HTTP response code 423" when force-unlock names the wrong ID. */
async function explainLock(url: string): Promise<void> {
  const res = await fetch(`${url}${LOCK_PATH}`).catch(() => undefined);
  if (res?.status !== 200) return;
  const holder = (await res.json()) as LockInfo;
  const what = [holder.Operation?.replace(/^OperationType/, "").toLowerCase(), holder.Who && `by ${holder.Who}`, holder.Created && `since ${holder.Created}`].filter(Boolean).join(" ");
  writeFramed(process.stdout, [["stderr", `ktf: the state's lock is held by ID ${holder.ID}${what ? ` (${what})` : ""}; force-unlock takes that ID\n`]]);
}

function stateUrl(o: RunnerOptions): string {
  return o.stateUrl ?? `http://127.0.0.1:${STATE_PORT}`;
}

/** The state sidecar starts beside the runner; the engine's first use of it must find it up. */
async function waitForStateServer(url: string, stopped: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const up = await pollUntil(timeoutMs, 50, () => (stopped.aborted ? Promise.reject(new KtfError("stopped")) : fetch(`${url}/healthz`).then((r) => r.ok, () => false)));
  if (!up) throw new KtfError(`the state sidecar did not answer on ${url} in ${timeoutMs / 1000}s`);
}

/** The runner's own variables stay out of the engine's environment. */
function engineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => k !== ENV.job && !k.startsWith(ENV.hclVariablePrefix)));
}

/**
 * Waits for the engine. The first SIGTERM or SIGINT is passed on as an interrupt so the
 * engine stops cleanly (releasing the state lock); a second one kills it.
 */
async function runInterruptible(engine: EngineProcess, signals: NodeJS.EventEmitter): Promise<number> {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) engine.kill();
    else engine.interrupt();
    interrupted = true;
  };
  signals.on("SIGTERM", onSignal);
  signals.on("SIGINT", onSignal);
  try {
    return await engine.exited;
  } finally {
    signals.off("SIGTERM", onSignal);
    signals.off("SIGINT", onSignal);
  }
}
