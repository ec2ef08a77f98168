/**
 * The engine commands a Run may execute, and what each does to state. The operator queues
 * the commands that can change or lock state one at a time per workspace; read-only
 * commands start at once.
 */
export const ENGINE_COMMANDS = [
  "init", "plan", "apply", "destroy", "refresh", "output", "show", "validate", "fmt",
  "import", "state", "force-unlock", "providers", "console", "taint", "untaint", "graph",
  "version", "test", "get", "metadata",
] as const;
export type EngineCommand = (typeof ENGINE_COMMANDS)[number];

const LOCKING: ReadonlySet<EngineCommand> = new Set([
  "plan", "apply", "destroy", "refresh", "import", "force-unlock", "console", "taint", "untaint", "test",
]);

/** `state` subcommands that write state; `list`, `show` and `pull` only read it. */
export const STATE_WRITES: ReadonlySet<string> = new Set(["mv", "rm", "push", "replace-provider", "identities"]);

/** The first argument that is not a flag: the subcommand of `state` or `workspace`. */
export function subcommandOf(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith("-"));
}

/** Whether a run of this command can change or lock the workspace's state. */
export function changesState(command: EngineCommand, args: readonly string[]): boolean {
  if (command === "state") return STATE_WRITES.has(subcommandOf(args) ?? "");
  return LOCKING.has(command);
}

/** Commands that need the extra per-workspace permission unless a workspace says otherwise. */
export const DEFAULT_PRIVILEGED_COMMANDS = ["apply", "destroy", "import", "state", "force-unlock", "taint", "untaint"] as const;

/** Whether the run is privileged under the workspace's list; `state` counts only for writes. */
export function isPrivileged(privileged: readonly string[], command: EngineCommand, args: readonly string[]): boolean {
  if (!privileged.includes(command)) return false;
  return command === "state" ? changesState(command, args) : true;
}
