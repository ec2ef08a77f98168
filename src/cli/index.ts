import { Command, CommanderError } from "commander";
import { ENGINE_COMMANDS, type EngineCommand } from "../api/commands.js";
import { ApiError, ConnectionError, KtfError, ValidationError, errorMessage } from "../errors.js";
import { KTF_VERSION } from "../version.js";
import type { GitHubDeployOptions } from "./commands/github-deploy.js";
import type { InstallCommandOptions } from "./commands/install.js";
import { DEFAULT_NAMESPACE } from "../install/defaults.js";
import { hoistLeadingOptions, type KtfOptions } from "./engine-args.js";
import { collect, fillFromEnv } from "./env-options.js";
import type { VersionOptions } from "./commands/version.js";
import type { NewWorkspaceOptions } from "./commands/workspace.js";
import type { Terminal } from "./output/terminal.js";

// Each command's module is loaded when it runs, so that `ktf --help` and a typo load only
// the command table (a cluster command brings the Kubernetes client, schemas, the archive).
const workspaceCommands = () => import("./commands/workspace.js");
const runsCommands = () => import("./commands/runs.js");

const ENGINE_HELP: Partial<Record<EngineCommand, string>> = {
  init: "Prepare the configuration in the cluster (providers, modules)",
  plan: "Show changes required by the current configuration (-out=x saves the plan in the cluster)",
  apply: "Plan, confirm, then apply exactly that plan (-auto-approve skips the question; -plan=RUN applies a saved plan)",
  destroy: "Plan the destruction, confirm, then destroy",
  refresh: "Update the state to match remote systems",
  output: "Show output values from the state",
  show: "Show the current state or a saved plan",
  validate: "Check whether the configuration is valid",
  fmt: "Format the configuration files in the engine's canonical style (rewrites them here)",
  import: "Associate existing infrastructure with a resource",
  state: "Advanced state management (list, show, mv, rm, pull, push; versions, rollback SERIAL, recover RUN)",
  "force-unlock": "Release a stuck lock on the workspace's state",
  providers: "Show the providers required by the configuration",
  console: "Interactive console for expressions (attaches a terminal)",
  sh: "A shell in a run pod (or one command: ktf sh -- CMD ARGS), with the configuration, init done and the workspace's environment",
  taint: "Mark a resource instance as not fully functional",
  untaint: "Remove the tainted state from a resource instance",
  graph: "Generate a Graphviz graph of the steps in an operation",
  test: "Run the configuration's tests",
};

/** Options every cluster command takes, as kubectl spells them. */
function withClusterOptions(cmd: Command): Command {
  return withImpersonation(
    cmd
      .option("--kubeconfig <path>", "path to the kubeconfig file")
      .option("--context <name>", "the kubeconfig context to use")
      .option("-n, --namespace <namespace>", "the namespace of the workspace"),
  );
}

function withImpersonation(cmd: Command): Command {
  return cmd.option("--as <user>", "the user to impersonate").option("--as-group <group>", "a group to impersonate (repeatable)", collect);
}

export function buildProgram(t: Terminal, setExit: (code: number) => void): Command {
  const program = new Command("ktf")
    .description(
      "Terraform and OpenTofu, run on Kubernetes.\n\nEngine commands take the engine's own flags, passed through untouched:\n  ktf plan -var x=1 -target=terraform_data.a   (or: ktf plan -- -var x=1)\n\n" +
        "Every option can also be set as KTF_<OPTION> in the environment (KTF_NAMESPACE=team, KTF_DETACH=1); a flag wins.",
    )
    .version(KTF_VERSION, "-v, --version")
    .configureOutput({ writeOut: (s) => t.stdout.write(s), writeErr: (s) => t.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError("(run ktf --help for usage)")
    .hook("preAction", (_, action) => fillFromEnv(action, t.env));
  const run = (fn: () => Promise<number>) => async () => setExit(await fn());

  const ws = program.command("workspace").alias("ws").description("Create, list, select, show and delete workspaces");
  withClusterOptions(ws.command("new <name>").description("Create a workspace and select it for this directory"))
    .option("--engine <engine>", "tofu or terraform", "tofu")
    .option("--engine-version <version>", "the engine version runs must use")
    .option("--var <name=value>", "a terraform variable (repeatable)", collect)
    .option("--secret-var <name=secret/key>", "a sensitive variable read from a Secret key at run time (repeatable)", collect)
    .option("--env <NAME=value>", "an environment variable for the engine (repeatable)", collect)
    .option("--secret-env <NAME=secret/key>", "an environment variable read from a Secret key (repeatable)", collect)
    .option("--service-account <name>", "the ServiceAccount runs execute as (default: one ktf creates)")
    .option("--working-dir <dir>", "where the engine runs inside the configuration")
    .option("--cache-size <size>", "a persistent provider cache of this size (e.g. 1Gi)")
    .option("--storage-class <name>", "the storage class of the cache volume")
    .option("--image <image>", "the run image for this workspace")
    .option("--no-select", "do not select the new workspace for this directory")
    .option("--no-backup", "do not copy this workspace's state to the installation's backup store")
    .option("--no-restore", "start without state even when a backup of a workspace of this name exists")
    .action((name: string, o: NewWorkspaceOptions) => run(async () => (await workspaceCommands()).workspaceNew(t, name, o))());
  withClusterOptions(ws.command("list").description("List workspaces"))
    .option("-A, --all-namespaces", "list workspaces in every namespace")
    .action((o: KtfOptions & { allNamespaces?: boolean }) => run(async () => (await workspaceCommands()).workspaceList(t, o))());
  withClusterOptions(ws.command("select <name>").description("Select the workspace this directory's commands act on")).action((name: string, o: KtfOptions) =>
    run(async () => (await workspaceCommands()).workspaceSelect(t, name, o))(),
  );
  withClusterOptions(ws.command("show [name]").description("Show a workspace: engine, variables, queue, last runs, outputs")).action(
    (name: string | undefined, o: KtfOptions) => run(async () => (await workspaceCommands()).workspaceShow(t, name, o))(),
  );
  withClusterOptions(ws.command("delete <name>").description("Delete a workspace with its runs (its state Secret is kept)"))
    .option("--force", "delete even while a run is active")
    .action((name: string, o: KtfOptions & { force?: boolean }) => run(async () => (await workspaceCommands()).workspaceDelete(t, name, o))());

  const runs = program.command("runs").description("List runs, read their logs, cancel them");
  withClusterOptions(runs.command("list").description("List the runs of the selected workspace"))
    .option("-w, --workspace <name>", "the workspace (default: the selected one)")
    .option("--all", "runs of every workspace in the namespace")
    .action((o: KtfOptions & { all?: boolean }) => run(async () => (await runsCommands()).runsList(t, o))());
  withClusterOptions(runs.command("logs <run>").description("Print a run's output"))
    .option("-f, --follow", "stream until the run ends, and exit with its exit code")
    .action((name: string, o: KtfOptions & { follow?: boolean }) => run(async () => (await runsCommands()).runsLogs(t, name, o))());
  withClusterOptions(runs.command("cancel <run>").description("Cancel a run: queued runs never start, running ones stop cleanly")).action(
    (name: string, o: KtfOptions) => run(async () => (await runsCommands()).runsCancel(t, name, o))(),
  );

  withClusterOptions(program.command("version").description("Show the versions of ktf, of its operator in the cluster, and of the engine the selected workspace uses"))
    .option("-w, --workspace <name>", "the workspace (default: the selected one)")
    .option("--operator-namespace <namespace>", "where the operator runs", DEFAULT_NAMESPACE)
    .option("-o, --output <format>", "text or json (-json, as terraform spells it, is json too)", "text")
    .action((o: VersionOptions) => run(async () => (await import("./commands/version.js")).version(t, o))());

  withImpersonation(
    program
      .command("install")
      .description("Install or upgrade ktf in the cluster: CRDs, operator, RBAC and user roles")
      .option("--kubeconfig <path>", "path to the kubeconfig file")
      .option("--context <name>", "the kubeconfig context to use"),
  )
    .option("--dry-run", "print the manifests instead of applying them")
    .option("--image <image>", "the operator and run image")
    .option("--replicas <n>", "operator replicas; they share the workspaces by shards")
    .option("--shards <n>", "how many shards the workspaces are split into among the replicas (default: the replica count)")
    .option("--operator-namespace <namespace>", "where the operator runs", "ktf-system")
    .option("--watch-namespaces <list>", "only serve these namespaces (comma-separated; default all)")
    .option("--start-timeout <seconds>", "fail runs whose pod cannot start (missing Secret, image) after this long", "120")
    .option("--cli-config-secret <name>", "the Secret (key config.tfrc) with the engine's CLI configuration for workspaces that name none, in each workspace's namespace")
    .option("--backup <url>", "copy every state version to s3://BUCKET/PREFIX or gs://BUCKET/PREFIX (repeatable; ?region=R&endpoint=http://HOST:PORT)", collect)
    .option("--backup-secret <name>", "a Secret in the operator's namespace with the stores' credentials (default: the operator's ServiceAccount)")
    .option("--cloud-credentials <name>", "a Secret in the operator's namespace whose key credentials.tfrc is a terraform CLI configuration with credentials \"HOST\" { token = ... } for Terraform Cloud / Enterprise")
    .option("--cloud-variables <name>", "a Secret in the operator's namespace whose keys NAMESPACE.KEY are sensitive values of cloud workspaces (valueFrom.mounted.key), read by the operator alone")
    .option("--github-app <secret>", "run the GitHub webhook receiver (Deployment ktf-github) with the App whose Secret in the operator's namespace `ktf github deploy` wrote")
    .action((o: InstallCommandOptions) => run(async () => (await import("./commands/install.js")).install(t, o))());

  // The GitHub App: `deploy` creates it from this machine; `serve` is the webhook receiver in the cluster.
  const github = program.command("github").description("ktf's GitHub App: plans of pull requests as checks, applies from comments");
  withImpersonation(
    github
      .command("deploy")
      .description("Create ktf's GitHub App through GitHub's manifest flow (in a browser) and store its credentials in a Secret in the cluster")
      .option("--kubeconfig <path>", "path to the kubeconfig file")
      .option("--context <name>", "the kubeconfig context to use"),
  )
    .option("--webhook-url <url>", "where GitHub sends the App's events: the public HTTPS URL of an Ingress or LoadBalancer in front of the ktf-github Service (required)")
    .option("--name <name>", "the App's name on GitHub (default: ktf-RANDOM)")
    .option("--org <org>", "create the App in this organization (default: your personal account)")
    .option("--github-url <url>", "GitHub Enterprise Server's web URL (its API is URL/api/v3)", "https://github.com")
    .option("--github-api-url <url>", "GitHub's API URL, when it is not the one --github-url implies")
    .option("--secret <name>", "the Secret the App's ID, private key and webhook secret go to", "ktf-github-app")
    .option("--operator-namespace <namespace>", "where the operator runs: the Secret's namespace", DEFAULT_NAMESPACE)
    .option("--timeout <duration>", "how long to wait for GitHub to send the browser back (10m, 90s, 1h)", "10m")
    .option("--open", "open the page in a browser")
    // Imported when used: it brings octokit, which no other command needs.
    .action((o: GitHubDeployOptions) => run(async () => (await import("./commands/github-deploy.js")).githubDeploy(t, o))());
  // Only shown by `ktf github serve --help`: the receiver parses its own flags (src/github/serve.ts).
  github
    .command("serve")
    .description("Run the GitHub webhook receiver (what the ktf-github Deployment runs)")
    .option("--namespace <namespace>", "its own namespace: its delivery queue (or KTF_NAMESPACE)", "ktf-system")
    .option("--watch-namespaces <list>", "serve only these namespaces' workspaces (comma-separated, or KTF_WATCH_NAMESPACES; default all)")
    .option("--port <port>", "where it listens for GitHub's webhooks", "8443")
    .option("--address <address>", "the address it listens on", "0.0.0.0")
    .option("--tls-cert <file>", "serve HTTPS with this certificate (default: plain HTTP behind an Ingress)")
    .option("--tls-key <file>", "the certificate's key")
    .option("--github-api-url <url>", "GitHub's API (GitHub Enterprise: https://HOST/api/v3; or KTF_GITHUB_API_URL)", "https://api.github.com")
    .option("--app-dir <dir>", "the App's mounted Secret (or KTF_GITHUB_APP_DIR)", "/var/run/secrets/ktf/github")
    .option("--kubeconfig <path>", "path to the kubeconfig file (default: in-cluster)")
    .option("--context <name>", "the kubeconfig context to use")
    .action(() => undefined);

  // Only shown by `ktf operator --help`: the operator parses its own flags (src/operator/main.ts).
  program
    .command("operator")
    .description("Run the operator (what the ktf-operator Deployment runs)")
    .option("--namespace <namespace>", "where its shard and member Leases live (or KTF_NAMESPACE)", "ktf-system")
    .option("--watch-namespaces <list>", "serve only these namespaces (comma-separated; default all)")
    .option("--port <port>", "health, readiness and metrics", "8080")
    .option("--runner-image <image>", "the image of run pods (or KTF_RUNNER_IMAGE)")
    .option("--leader-elect <bool>", "share the work with the other replicas by shard Leases", "true")
    .option("--shards <n>", "how many shards the workspaces are split into among the replicas", "1")
    .option("--start-timeout-seconds <seconds>", "fail runs whose pod cannot start after this long", "120")
    .option("--workers <n>", "reconciles at once per controller", "4")
    .option("--backup <url>", "copy state versions to s3://... or gs://... (repeatable)")
    .option("--cli-config-secret <name>", "the engine's CLI configuration Secret of workspaces that name none")
    .option("--kubeconfig <path>", "path to the kubeconfig file (default: in-cluster)")
    .option("--context <name>", "the kubeconfig context to use")
    .action(() => undefined);
  program.command("runner").description("Run one run inside its pod (what run pods run)").action(() => undefined);
  program.command("state-server").description("Serve a run's state to its engine (the run pod's sidecar)").action(() => undefined);

  for (const command of ENGINE_COMMANDS) {
    const help = ENGINE_HELP[command];
    if (help && !ANSWERED_BY_KTF.has(command)) program.command(command).description(help).helpOption(false);
  }
  return program;
}

/** Engine commands that ktf answers itself rather than in a run: `ktf version` (see commands/version.ts). */
const ANSWERED_BY_KTF: ReadonlySet<string> = new Set(["version"]);

function isEngineCommand(word: string | undefined): word is EngineCommand {
  return word !== undefined && (ENGINE_COMMANDS as readonly string[]).includes(word) && !ANSWERED_BY_KTF.has(word);
}

/** `ktf version -json`, as terraform spells it, is `ktf version --output=json`. */
function terraformJsonFlag(words: string[]): string[] {
  return words[0] === "version" ? words.map((w) => (w === "-json" ? "--output=json" : w)) : words;
}

/** Words after the command that are only ktf's help flag. */
function wantsHelp(words: readonly string[]): boolean {
  return words.length === 1 && (words[0] === "--help" || words[0] === "-h");
}

/**
 * The CLI: parses, dispatches, and turns every error into one line that says what went
 * wrong and what to do. Returns the exit code; only the bin script exits.
 */
export async function main(
  argv: readonly string[],
  t: Terminal,
  services: { operator: (args: string[]) => Promise<number>; githubServe: (args: string[]) => Promise<number>; runner: () => Promise<number>; stateServer: () => Promise<number> },
): Promise<number> {
  let exitCode = 0;
  const words = terraformJsonFlag(hoistLeadingOptions(argv));
  const [first, ...rest] = words;
  try {
    if (isEngineCommand(first) && !wantsHelp(rest)) return await (await import("./commands/engine.js")).engineCommand(t, first, rest);
    if (first === "operator" && !wantsHelp(rest)) return await services.operator(rest);
    if (first === "github" && rest[0] === "serve" && !wantsHelp(rest)) return await services.githubServe(rest.slice(1));
    if (first === "runner") return await services.runner();
    if (first === "state-server") return await services.stateServer();
    await buildProgram(t, (code) => (exitCode = code)).parseAsync(words, { from: "user" });
    return exitCode;
  } catch (err) {
    return reportError(t, err);
  }
}

function reportError(t: Terminal, err: unknown): number {
  if (err instanceof CommanderError) {
    return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? 0 : 2;
  }
  let message: string;
  if (err instanceof ApiError) {
    message = err.isForbidden ? `forbidden: ${err.message}` : err.message;
  } else if (err instanceof ValidationError || err instanceof ConnectionError || err instanceof KtfError) {
    message = err.message;
  } else {
    message = `internal error: ${errorMessage(err)}`;
    if (t.env.KTF_DEBUG && err instanceof Error && err.stack) message += `\n${err.stack}`;
  }
  t.stderr.write(`ktf: error: ${message}\n`);
  return 1;
}
