import { z } from "zod";
import { ENGINE_COMMANDS } from "../api/commands.js";
import { archiveRefSchema, planSummarySchema } from "../api/run.js";

/**
 * What the operator hands the runner (in the pod's environment and volumes) and what the
 * runner hands back (in the container's termination message). Both sides import this file.
 */
export const MOUNTS = {
  archive: "/ktf/archive",
  plan: "/ktf/plan",
  work: "/ktf/work",
  cache: "/ktf/cache",
  tmp: "/tmp",
} as const;

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

/** What the runner reports when it ends (kept well under the kubelet's 4 KiB limit). */
export const runnerResultSchema = z.object({
  exitCode: z.number().int(),
  plan: planSummarySchema.optional(),
  /** A runner failure outside the engine (bad archive, missing engine version...). */
  error: z.string().optional(),
});
export type RunnerResult = z.infer<typeof runnerResultSchema>;
