import { resolve } from "node:path";
import type { EngineCommand } from "../../api/commands.js";
import type { Run } from "../../api/run.js";
import { packConfiguration, type PackedConfiguration } from "../../archive/pack.js";
import { UsageError } from "../../errors.js";
import { RESOURCES } from "../../kube/resources.js";
import { flagName, hasFlag, splitEngineArgs, takeFlag } from "../engine-args.js";
import { connect, requireWorkspace, type Session } from "../session.js";
import { checkPrivilege } from "../access.js";
import { creatorAnnotations } from "../../runs/creator.js";
import { announceRun, attachRun, createRun, exitCodeOf, followRun, type RunRequest } from "../run-session.js";
import { formatLocalFiles, rewritesFiles } from "./fmt.js";
import { stateVersions } from "./state-versions.js";
import { isInteractive, sealsOutput, subcommandOf, writesLockFile } from "../../api/commands.js";
import { LockFileWriteBack } from "../lock-file.js";
import { cloudRunRequest } from "../../cloud/run-args.js";
import { cloudOutput } from "./cloud-output.js";
import { ask } from "../output/prompt.js";
import { note, type Terminal } from "../output/terminal.js";

/** Commands that read state only: they get no configuration when the directory has none. */
const STATE_ONLY: ReadonlySet<EngineCommand> = new Set(["output", "state", "force-unlock", "show"]);

/**
 * `ktf <command> [ktf options] [engine arguments]`: runs the engine command in the
 * cluster as if the engine ran here, and returns the engine's exit code.
 */
export async function engineCommand(t: Terminal, command: EngineCommand, words: readonly string[]): Promise<number> {
  const { options, engineArgs } = splitEngineArgs(words, t.env);
  const dir = resolve(t.cwd, options.chdir ?? ".");
  const session = await connect(t, options, dir);
  const ws = await requireWorkspace(t, session, options.workspace, dir);
  const workspace = ws.metadata.name ?? "";
  if (command === "state" && subcommandOf(engineArgs) === "versions") return stateVersions(t, ws);
  if (ws.spec.cloud) {
    if (command === "output") return cloudOutput(t, session, ws, engineArgs);
    // Refused before anything is packed (the operator checks again): TFC runs take fewer flags.
    cloudRunRequest(command, takeFlag(takeFlag(engineArgs, "out").rest, "plan").rest, true);
  }
  const base = { namespace: session.namespace, workspace, annotations: await creatorAnnotations(session.client) };

  const planRun = command === "apply" ? takeFlag(engineArgs, "plan") : undefined;
  if (planRun?.value !== undefined) {
    // An apply of a saved plan: the plan was approved when it was saved; -auto-approve is moot.
    await checkPrivilege(session.client, ws, "apply", []);
    const args = applyStepArgs(planRun.rest.filter((a) => flagName(a) !== "auto-approve"));
    return applySavedPlan(t, session, { ...base, planRun: planRun.value }, args, options.detach);
  }
  if ((command === "apply" || command === "destroy") && !hasFlag(engineArgs, "auto-approve")) {
    if (options.detach) throw new UsageError(`${command} --detach cannot ask for approval: add -auto-approve, or save a plan (ktf plan -out=x) and apply it with -plan=RUN`);
    // What finally runs is an apply of the saved plan.
    await checkPrivilege(session.client, ws, "apply", []);
    const configuration = await pack(dir, command);
    return planThenApply(t, session, { ...base, configuration }, command === "destroy" ? ["-destroy", ...engineArgs] : engineArgs, Boolean(ws.spec.cloud));
  }

  let args = engineArgs;
  if (command === "force-unlock" && !hasFlag(args, "force")) {
    // The engine in the pod has no terminal to ask on; ask here, as it would.
    if (!(await confirmUnlock(t, workspace))) return 1;
    args = ["-force", ...args];
  }
  let savePlan = false;
  if (command === "plan") {
    // A saved plan lives in the cluster, as the run's Secrets; -out names nothing local.
    const out = takeFlag(engineArgs, "out");
    savePlan = out.value !== undefined;
    args = out.rest;
  }
  await checkPrivilege(session.client, ws, command, args);
  if (command === "fmt" && rewritesFiles(args) && !options.detach) {
    return formatLocalFiles(t, session, { ...base, configuration: await pack(dir, command) }, ws, dir, args);
  }
  const configuration = STATE_ONLY.has(command) ? await packIfPresent(dir) : await pack(dir, command);
  const interactive = isInteractive(command, args);
  const sealed = sealsOutput(command, args);
  const run = await createRun(session.client, { ...base, command, args, configuration, savePlan, interactive, sealed, env: t.env });
  if (interactive) return exitCodeOf(t, await attachRun(session.client, t, run));
  const lockFile = writesLockFile(command, args) && !options.detach ? new LockFileWriteBack(t, resolve(dir, ws.spec.workingDir || ".")) : undefined;
  const code = await stream(t, session, run, { detach: Boolean(options.detach), ...(lockFile ? { onLockFile: (text: string) => lockFile.received(text) } : {}) });
  if (code === 0) await lockFile?.write();
  if (savePlan && code === 0) note(t, `ktf: plan saved in run ${run.metadata.name}; apply exactly it with: ktf apply -plan=${run.metadata.name}`);
  return code;
}

async function pack(dir: string, command: string): Promise<PackedConfiguration> {
  try {
    return await packConfiguration(dir);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}

/** The configuration when the directory has one; any other problem with it is reported. */
async function packIfPresent(dir: string): Promise<PackedConfiguration | undefined> {
  try {
    return await packConfiguration(dir);
  } catch (err) {
    if (err instanceof UsageError && err.message.startsWith("no terraform configuration")) return undefined;
    throw err;
  }
}

/** Streams a run and returns the exit code ktf ends with. */
async function stream(t: Terminal, session: Session, run: Run, o: { detach?: boolean; onLockFile?: (text: string) => void } = {}): Promise<number> {
  announceRun(t, run);
  if (o.detach) {
    note(t, `ktf: detached; follow it with: ktf runs logs ${run.metadata.name} -f`);
    return 0;
  }
  const outcome = await followRun(session.client, t, run, { interruptible: true, ...(o.onLockFile ? { onLockFile: o.onLockFile } : {}) });
  if (outcome.kind === "detached") return 0;
  return exitCodeOf(t, outcome.run);
}

/**
 * `apply` without -auto-approve: plan, show it, ask, then apply exactly that plan. Like
 * terraform, the answer is read from stdin whether or not it is a terminal.
 */
async function planThenApply(t: Terminal, session: Session, base: Omit<RunRequest, "command" | "args">, args: string[], inTfc: boolean): Promise<number> {
  const plan = await createRun(session.client, { ...base, command: "plan", args: planStepArgs(args), savePlan: true });
  const code = await stream(t, session, plan);
  if (code !== 0) return code;
  const planned = await session.client.get(RESOURCES.Run, session.namespace, plan.metadata.name ?? "");
  const summary = (planned as Run | undefined)?.status?.plan;
  if (summary && !summary.hasChanges) return 0;
  // What is approved is the saved plan: its own counts, from the file the apply will use.
  if (summary) note(t, `\nktf: the saved plan (run ${plan.metadata.name}): ${summary.import ? `${summary.import} to import, ` : ""}${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy`);
  // The engine's own question, with the workspace named as terraform names its workspace.
  const destroying = args.includes("-destroy");
  t.stderr.write(
    destroying
      ? `\nDo you really want to destroy all resources in workspace "${base.workspace}"?\n` +
          "  ktf will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n"
      : `\nDo you want to perform these actions in workspace "${base.workspace}"?\n` +
          "  ktf will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n",
  );
  const answer = await ask(t, "  Enter a value: ");
  if (answer !== "yes") {
    // A plan TFC keeps for confirmation holds its queue: canceling the plan run discards it.
    if (inTfc) await session.client.patch(RESOURCES.Run, session.namespace, plan.metadata.name ?? "", { spec: { cancel: true } });
    t.stderr.write(destroying ? "\nDestroy cancelled.\n" : "\nApply cancelled.\n");
    return 1;
  }
  return applySavedPlan(t, session, { ...base, planRun: plan.metadata.name ?? "" }, applyStepArgs(args));
}

async function confirmUnlock(t: Terminal, workspace: string): Promise<boolean> {
  t.stderr.write(
    `Do you really want to force-unlock the state of workspace "${workspace}"?\n` +
      "  The engine will remove the lock on the state. This allows other runs to change\n" +
      "  the state even though it may still be in use. Only 'yes' will be accepted to confirm.\n\n",
  );
  if ((await ask(t, "  Enter a value: ")) === "yes") return true;
  t.stderr.write("\nforce-unlock cancelled.\n");
  return false;
}

async function applySavedPlan(
  t: Terminal,
  session: Session,
  req: Omit<RunRequest, "command" | "args" | "configuration"> & { planRun: string },
  args: string[],
  detach?: boolean,
): Promise<number> {
  const run = await createRun(session.client, { ...req, command: "apply", args });
  return stream(t, session, run, { detach: Boolean(detach) });
}

/** Flags of `apply` that also mean something to the apply of a saved plan (the rest shaped the plan). */
const APPLY_STEP_FLAGS = new Set(["parallelism", "lock", "lock-timeout", "no-color", "compact-warnings", "input", "json"]);
/** Of those, the ones that take no value. */
const SWITCHES = new Set(["no-color", "compact-warnings", "json"]);

/** The flags (with their values, `-f=v` or `-f v`) that the apply step of `apply` takes too. */
export function applyStepArgs(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    const name = flagName(a);
    if (!APPLY_STEP_FLAGS.has(name)) continue;
    kept.push(a);
    if (!a.includes("=") && !SWITCHES.has(name) && args[i + 1] !== undefined) kept.push(args[++i] ?? "");
  }
  return kept;
}

/** What the plan step of `apply` takes: everything but -auto-approve. */
export function planStepArgs(args: readonly string[]): string[] {
  return args.filter((a) => flagName(a) !== "auto-approve");
}
