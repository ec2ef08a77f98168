import type { Command } from "commander";
import { UsageError } from "../errors.js";

/** How an option takes its value: one string, a list (repeatable), or none (a switch). */
export type OptionKind = "value" | "list" | "switch";

/** An option as the environment sees it: `--as-group` (kind list) is read from KTF_AS_GROUP. */
export interface EnvOption {
  /** The long flag: `--as-group`, `--no-select`. */
  long: string;
  /** Where its value goes in the options object: `asGroup`, `select`. */
  key: string;
  kind: OptionKind;
  /** A `--no-x` switch: true in the environment sets the key to false. */
  negate?: boolean;
}

export type OptionValues = Record<string, string | string[] | boolean>;

/** `--as-group` -> `KTF_AS_GROUP`. */
export function envName(long: string): string {
  return `KTF_${long.replace(/^-+/, "").replace(/-/g, "_").toUpperCase()}`;
}

function parseSwitch(name: string, text: string): boolean {
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new UsageError(`${name} expects true, false, 1 or 0, got "${text}"`);
}

/**
 * The options the environment sets, to sit under the command line's: KTF_<OPTION> for each
 * option of the table. An empty variable counts as unset; a list is comma-separated.
 */
export function optionsFromEnv(table: readonly EnvOption[], env: NodeJS.ProcessEnv): OptionValues {
  const values: OptionValues = {};
  for (const option of table) {
    const name = envName(option.long);
    const text = env[name];
    if (text === undefined || text === "") continue;
    if (option.kind === "switch") values[option.key] = parseSwitch(name, text) !== Boolean(option.negate);
    else if (option.kind === "list") values[option.key] = text.split(",").map((s) => s.trim()).filter(Boolean);
    else values[option.key] = text;
  }
  return values;
}

/** The parser of repeatable options: each use adds to the list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A commander command's options as the environment sees them (help and version are not options to set). */
export function commandOptionTable(cmd: Command): EnvOption[] {
  return cmd.options
    .filter((o) => o.long && o.long !== "--version")
    .map((o) => ({
      long: o.long ?? "",
      key: o.attributeName(),
      kind: !o.required && !o.optional ? "switch" : o.parseArg === collect ? "list" : "value",
      negate: o.negate,
    }));
}

/**
 * Fills a parsed command's options from the environment where the command line set none:
 * the command line beats the environment, which beats commander's defaults.
 */
export function fillFromEnv(cmd: Command, env: NodeJS.ProcessEnv): void {
  for (const [key, value] of Object.entries(optionsFromEnv(commandOptionTable(cmd), env))) {
    if (cmd.getOptionValueSource(key) !== "cli") cmd.setOptionValueWithSource(key, value, "env");
  }
}
