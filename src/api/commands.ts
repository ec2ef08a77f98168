/**
 * The engine commands a Run may execute, and what each does to state. The operator queues
 * the commands that can change or lock state one at a time per workspace; read-only
 * commands start at once.
 */
export const ENGINE_COMMANDS = [
  "init", "plan", "apply", "destroy", "refresh", "output", "show", "validate", "fmt",
  "import", "state", "force-unlock", "providers", "console", "taint", "untaint", "graph",
  "version", "test", "get", "metadata",
  // ktf's own: a shell, or one command, in a run pod with the configuration and init done.
  "sh",
] as const;
export type EngineCommand = (typeof ENGINE_COMMANDS)[number];

const LOCKING: ReadonlySet<EngineCommand> = new Set([
  "plan", "apply", "destroy", "refresh", "import", "force-unlock", "console", "taint", "untaint", "test", "sh",
]);

/**
 * `state` subcommands that write state; `list`, `show` and `pull` only read it. `rollback`
 * `recover` and `restore` are ktf's own: they push a stored state back (see src/state/).
 */
export const STATE_WRITES: ReadonlySet<string> = new Set(["mv", "rm", "push", "replace-provider", "rollback", "recover", "restore"]);

/** `state` subcommands that ktf runs itself instead of passing them to the engine. */
export const KTF_STATE_COMMANDS: ReadonlySet<string> = new Set(["rollback", "recover", "restore"]);

/** The first argument that is not a flag: the subcommand of `state` or `workspace`. */
export function subcommandOf(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith("-"));
}

/** Commands after which the dependency lock file goes back to the local directory, when it changed. */
export function writesLockFile(command: EngineCommand, args: readonly string[]): boolean {
  return command === "init" || (command === "providers" && subcommandOf(args) === "lock");
}

/** Whether a run of this command can change or lock the workspace's state. */
export function changesState(command: EngineCommand, args: readonly string[]): boolean {
  if (command === "state") return STATE_WRITES.has(subcommandOf(args) ?? "");
  return LOCKING.has(command);
}

/** Commands that write the workspace's state. */
const WRITES_STATE: ReadonlySet<EngineCommand> = new Set(["apply", "destroy", "import", "refresh", "taint", "untaint", "sh"]);

/**
 * What a run may do to its workspace's state through the state sidecar: `read` (and lock
 * and unlock with its own lock ID), `unlock` (force-unlock: release a lock held by another
 * ID), or `write` (with the lock ID it holds). Nothing may delete the state.
 */
export type StateAccess = "read" | "unlock" | "write";

export function stateAccess(command: EngineCommand, args: readonly string[]): StateAccess {
  if (command === "force-unlock") return "unlock";
  if (command === "state") return STATE_WRITES.has(subcommandOf(args) ?? "") ? "write" : "read";
  return WRITES_STATE.has(command) ? "write" : "read";
}

/**
 * Commands that need the extra per-workspace permission unless a workspace says otherwise:
 * those that write state, `test`, which creates real infrastructure, and `sh`, which can do
 * anything the run can.
 */
export const DEFAULT_PRIVILEGED_COMMANDS = ["apply", "destroy", "import", "refresh", "state", "force-unlock", "taint", "untaint", "test", "sh"] as const;

/**
 * Commands privileged whatever a workspace lists: `sh` can do anything the run can, and
 * workspaces made before it existed do not list it.
 */
export const ALWAYS_PRIVILEGED: ReadonlySet<EngineCommand> = new Set(["sh"]);

/** Whether the run is privileged under the workspace's list; `state` counts only for writes. */
export function isPrivileged(privileged: readonly string[], command: EngineCommand, args: readonly string[]): boolean {
  if (ALWAYS_PRIVILEGED.has(command)) return true;
  if (!privileged.includes(command)) return false;
  return command === "state" ? changesState(command, args) : true;
}

/**
 * Whether the command's output carries the state's values (sensitive ones included): the
 * runner then seals it to the key the run names (src/seal/), so the pod log shows others
 * nothing of it.
 */
export function sealsOutput(command: EngineCommand, args: readonly string[]): boolean {
  if (command === "output" || command === "show" || command === "console" || command === "sh") return true;
  return command === "state" && ["pull", "show"].includes(subcommandOf(args) ?? "");
}

/** Whether a run attaches the user's terminal: `console`, and `sh` without a command. */
export function isInteractive(command: EngineCommand, args: readonly string[]): boolean {
  return command === "console" || (command === "sh" && args.length === 0);
}
