import { z } from "zod";
import { ENGINE_COMMANDS } from "../api/commands.js";
import { archiveRefSchema } from "../api/run.js";

/**
 * What the operator hands the runner (in the pod's environment and volumes) and what the
 * runner hands back (in the container's termination message). Both sides import this file.
 */
export const MOUNTS = {
  archive: "/ktf/archive",
  plan: "/ktf/plan",
  /** The state version current when the pod started, when it is chunked (the state sidecar's). */
  state: "/ktf/state",
  /** A stored state that `state rollback` or `state recover` pushes back (the runner's). */
  push: "/ktf/push",
  work: "/ktf/work",
  cache: "/ktf/cache",
  tmp: "/tmp",
} as const;

const storedStateRefSchema = z.object({ name: z.string(), chunks: z.number().int().positive(), digest: z.string(), size: z.number().int() });

/** The job description, as JSON in KTF_RUN. Sensitive values are never in it. */
export const runnerJobSchema = z.object({
  namespace: z.string(),
  run: z.string(),
  runUid: z.string(),
  workspace: z.string(),
  engine: z.enum(["tofu", "terraform"]),
  engineVersion: z.string().optional(),
  command: z.enum(ENGINE_COMMANDS),
  args: z.array(z.string()),
  archive: archiveRefSchema.optional(),
  /** The directory inside the archive where the engine runs. */
  workingDir: z.string(),
  /** Save the plan as Secrets named <savePlanAs>-<index> owned by the run. */
  savePlanAs: z.string().optional(),
  /** Apply this saved plan (mounted at MOUNTS.plan). */
  plan: z.object({ digest: z.string(), size: z.number().int(), chunks: z.number().int() }).optional(),
  /** Variables whose values are HCL expressions; their values are in KTF_HCL_VAR_<name>. */
  hclVariables: z.array(z.string()),
  stateSecretSuffix: z.string(),
  /** Seal the engine's output to this public key (src/seal/): it carries the state's values. */
  outputKey: z.string().optional(),
  /** What the command may do to the state; the state sidecar enforces it. */
  stateAccess: z.enum(["read", "unlock", "write"]),
  /** Who created the run, recorded with each state version it writes. */
  user: z.string().optional(),
  /** The chunked state version mounted at MOUNTS.state. */
  state: storedStateRefSchema.optional(),
  /** The stored state mounted at MOUNTS.push for `state rollback` (a new serial) or `state recover`. */
  push: storedStateRefSchema.extend({ newSerial: z.boolean() }).optional(),
});
export type RunnerJob = z.infer<typeof runnerJobSchema>;

export const ENV = {
  job: "KTF_RUN",
  hclVariablePrefix: "KTF_HCL_VAR_",
} as const;

/** Where the state sidecar serves the engine's http backend, on the pod's loopback. */
export const STATE_PORT = 8471;

/** Projected tokens for workload identity are mounted under here, one directory each. */
export const TOKENS_DIR = "/var/run/secrets/ktf/tokens";
/** Where the engine's CLI configuration file is mounted, when the workspace has one (TF_CLI_CONFIG_FILE). */
export const CLI_CONFIG_FILE = "/var/run/secrets/ktf/cli-config/config.tfrc";
/**
 * The CA certificates (PEM) of the CLI configuration's Secret, key `ca.crt` when it has one:
 * a private mirror's or registry's. The engine trusts them besides the image's own roots.
 */
export const CLI_CONFIG_CA_FILE = "/var/run/secrets/ktf/cli-config/ca.crt";

/**
 * What the runner reports when it ends (kept well under the kubelet's 4 KiB limit). The
 * configuration's code can write this file too, so the operator takes from it only a
 * message to show; the exit code comes from the kubelet and the plan from the state sidecar.
 */
export const runnerResultSchema = z.object({
  exitCode: z.number().int(),
  /** A runner failure outside the engine (bad archive, missing engine version...). */
  error: z.string().optional(),
});
export type RunnerResult = z.infer<typeof runnerResultSchema>;
