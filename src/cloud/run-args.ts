import { UsageError } from "../errors.js";

/** What a ktf Run asks of a TFC run, read from its command and the engine's flags. */
export interface CloudRunRequest {
  /** A speculative plan: TFC never applies it (`ktf plan` without -out). */
  planOnly: boolean;
  isDestroy: boolean;
  /**
   * Apply once planned. A Run of apply or destroy is the approval (the CLI asked before
   * creating it, or -auto-approve said so); a saved plan is confirmed by its own apply run.
   */
  autoApply: boolean;
  refresh: boolean;
  targetAddrs: string[];
  replaceAddrs: string[];
  /** -detailed-exitcode: a plan with changes exits 2, as the engine's would. */
  detailedExitCode: boolean;
}

/** Flags that mean nothing to a remote run (TFC locks, colours and asks itself): accepted and ignored. */
const IGNORED = new Set(["input", "no-color", "lock", "lock-timeout", "compact-warnings", "parallelism", "auto-approve"]);
const TAKES_VALUE = new Set(["target", "replace", "refresh", "input", "lock", "lock-timeout", "parallelism"]);

/**
 * The TFC run for `command args` on a cloud workspace, or a UsageError saying which flag or
 * command TFC's runs cannot take: the terraform CLI's cloud backend takes the same ones.
 */
export function cloudRunRequest(command: string, args: readonly string[], savePlan = false): CloudRunRequest {
  if (command !== "plan" && command !== "apply" && command !== "destroy") {
    throw new UsageError(`${command} does not run on a TFC workspace: ktf runs plan, apply and destroy there (TFC keeps the state; read outputs with ktf output)`);
  }
  const request: CloudRunRequest = {
    planOnly: command === "plan" && !savePlan,
    isDestroy: command === "destroy",
    autoApply: command !== "plan",
    refresh: true,
    targetAddrs: [],
    replaceAddrs: [],
    detailedExitCode: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const match = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new UsageError(`${command}: ${JSON.stringify(arg)} is not a flag a TFC run takes (a TFC run plans the whole uploaded configuration)`);
    const name = match[1] ?? "";
    let value = match[2];
    if (value === undefined && TAKES_VALUE.has(name) && name !== "refresh") value = args[++i];
    if (value === undefined && TAKES_VALUE.has(name) && name !== "refresh") throw new UsageError(`${command}: -${name} needs a value`);
    if (IGNORED.has(name)) continue;
    if (name === "target" && value) request.targetAddrs.push(value);
    else if (name === "replace" && value) request.replaceAddrs.push(value);
    else if (name === "refresh") request.refresh = value === undefined || value === "true";
    else if (name === "destroy" && command === "plan") request.isDestroy = true;
    else if (name === "detailed-exitcode" && command === "plan") request.detailedExitCode = true;
    else if (name === "var" || name === "var-file") throw new UsageError(`${command}: -${name} is not taken by a TFC run: set the workspace's variables in its spec.variables, which ktf keeps in TFC`);
    else throw new UsageError(`${command}: -${name} is not a flag a TFC run takes; it takes -target, -replace, -refresh=false${command === "plan" ? ", -destroy, -detailed-exitcode" : ", -auto-approve"}`);
  }
  return request;
}
