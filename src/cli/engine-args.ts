import { UsageError } from "../errors.js";
import { optionsFromEnv, type EnvOption, type OptionKind } from "./env-options.js";

/** ktf's own options on an engine command line; everything else goes to the engine. */
export interface KtfOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** kubectl's --as and --as-group (repeatable): whom to impersonate. */
  as?: string;
  asGroup?: string[];
  workspace?: string;
  chdir?: string;
  detach?: boolean;
}

/** ktf's options on an engine command line, each with its spellings; the first is the long one. */
const ENGINE_OPTIONS: readonly { flags: readonly string[]; key: keyof KtfOptions; kind: OptionKind }[] = [
  { flags: ["--kubeconfig"], key: "kubeconfig", kind: "value" },
  { flags: ["--context"], key: "context", kind: "value" },
  { flags: ["--namespace", "-n"], key: "namespace", kind: "value" },
  { flags: ["--workspace", "-w"], key: "workspace", kind: "value" },
  { flags: ["--chdir", "-chdir"], key: "chdir", kind: "value" },
  { flags: ["--as"], key: "as", kind: "value" },
  { flags: ["--as-group"], key: "asGroup", kind: "list" },
  { flags: ["--detach"], key: "detach", kind: "switch" },
];

/** The same options as the environment sees them (KTF_NAMESPACE, KTF_DETACH...). */
export const ENGINE_ENV_OPTIONS: readonly EnvOption[] = ENGINE_OPTIONS.map((o) => ({ long: o.flags[0] ?? "", key: o.key, kind: o.kind }));

/** The options that take a value, by each spelling. */
const WITH_VALUE: Record<string, (typeof ENGINE_OPTIONS)[number]> = Object.fromEntries(
  ENGINE_OPTIONS.filter((o) => o.kind !== "switch").flatMap((o) => o.flags.map((flag) => [flag, o])),
);

/**
 * Splits the words after an engine command into ktf's options and the engine's arguments,
 * which stay untouched and in order. After `--`, every word is the engine's. Options the
 * words do not set come from the environment (KTF_NAMESPACE...), which adds no argument.
 *   ktf plan -n team -var x=1 -- -target=a   ->  {namespace: team}, [-var, x=1, -target=a]
 */
export function splitEngineArgs(words: readonly string[], env: NodeJS.ProcessEnv = {}): { options: KtfOptions; engineArgs: string[] } {
  const fromEnv = optionsFromEnv(ENGINE_ENV_OPTIONS, env) as KtfOptions;
  const options: KtfOptions = {};
  const engineArgs: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    if (word === "--") {
      engineArgs.push(...words.slice(i + 1));
      break;
    }
    if (word === "--detach") {
      options.detach = true;
      continue;
    }
    const eq = word.indexOf("=");
    const flag = eq > 0 ? word.slice(0, eq) : word;
    const option = WITH_VALUE[flag];
    if (!option) {
      engineArgs.push(word);
      continue;
    }
    const value = eq > 0 ? word.slice(eq + 1) : words[++i];
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    const values = options as Record<string, string | string[]>;
    values[option.key] = option.kind === "list" ? [...((values[option.key] as string[] | undefined) ?? []), value] : value;
  }
  return { options: { ...fromEnv, ...options }, engineArgs };
}

/**
 * kubectl takes its options before the command too (`kubectl -n team get pods`), and
 * terraform its -chdir (`terraform -chdir=dir plan`). Moves such leading options after the
 * command's words, ahead of any `--`, where every command looks for them.
 *   ktf -n team plan -- -target=a  ->  plan -n team -- -target=a
 */
export function hoistLeadingOptions(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const word = argv[i] ?? "";
    const eq = word.indexOf("=");
    if (!WITH_VALUE[eq > 0 ? word.slice(0, eq) : word]) break;
    const width = eq > 0 || i + 1 >= argv.length ? 1 : 2;
    leading.push(...argv.slice(i, i + width));
    i += width;
  }
  const rest = argv.slice(i);
  const dashes = rest.indexOf("--");
  return dashes < 0 ? [...rest, ...leading] : [...rest.slice(0, dashes), ...leading, ...rest.slice(dashes)];
}

/** The flag an argument sets, without dashes or value: `--out=p` -> `out`; "" for a non-flag. */
export function flagName(arg: string): string {
  return arg.startsWith("-") ? (arg.replace(/^--?/, "").split("=")[0] ?? "") : "";
}

/** Whether the engine arguments contain a flag, as `-flag` or `-flag=value` (terraform also accepts `--flag`). */
export function hasFlag(args: readonly string[], flag: string): boolean {
  return args.some((a) => flagName(a) === flag);
}

/** The value of `-flag=value` or `-flag value`, and the arguments without it. */
export function takeFlag(args: readonly string[], flag: string): { value?: string; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (flagName(a) !== flag) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    value = eq >= 0 ? a.slice(eq + 1) : args[++i];
  }
  return { value, rest };
}
