import { z } from "zod";
import { API_VERSION, RUN } from "./group.js";
import { ENGINE_COMMANDS } from "./commands.js";
import { conditionList, objectMeta, objectName } from "./meta.js";
import { cloudRunStatusSchema } from "./cloud.js";

export const RUN_PHASES = ["Queued", "Pending", "Running", "Succeeded", "Failed", "Canceled"] as const;
export type RunPhase = (typeof RUN_PHASES)[number];
export const FINISHED_PHASES: ReadonlySet<RunPhase> = new Set(["Succeeded", "Failed", "Canceled"]);

/** Whether the run has ended, one way or another. */
export function isFinished(run: { status?: { phase?: RunPhase | undefined } | undefined }): boolean {
  return run.status?.phase !== undefined && FINISHED_PHASES.has(run.status.phase);
}

export const archiveRefSchema = z.object({
  name: objectName.describe("Prefix of the Secrets <name>-<index> that hold the archive's chunks."),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, { message: "expected sha256:<64 hex digits>" }),
  size: z.number().int().nonnegative(),
  chunks: z.number().int().positive(),
  path: z
    .string()
    .max(512)
    .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), { message: "expected a relative path inside the archive" })
    .meta({
      "x-kubernetes-validations": [{ rule: "!self.startsWith('/') && !self.split('/').exists(p, p == '..')", message: "expected a relative path inside the archive" }],
    })
    .default("")
    .describe("Where the user's directory sits inside the archive."),
});
export type ArchiveRef = z.infer<typeof archiveRefSchema>;

export const runSpecSchema = z
  .object({
    workspace: objectName.describe("The Workspace in this namespace that the run belongs to."),
    command: z.enum(ENGINE_COMMANDS),
    args: z.array(z.string()).default([]).describe("Arguments passed to the engine untouched."),
    archive: archiveRefSchema.optional().describe("The configuration the run executes on."),
    planRun: objectName.optional().describe("For an apply: the plan run whose saved plan it applies."),
    savePlan: z.boolean().default(false).describe("For a plan: keep the plan so that an apply can apply exactly it."),
    interactive: z.boolean().default(false).describe("Attach a terminal (console)."),
    outputKey: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9+/]+=*$/, { message: "expected a base64 X25519 public key" })
      .optional()
      .describe("For commands whose output carries the state: the public key (X25519, SPKI, base64) their output is sealed to."),
    cancel: z.boolean().default(false).describe("Set to stop the run."),
  })
  .refine((s) => s.planRun === undefined || s.command === "apply", {
    message: "planRun is only valid for the apply command",
    path: ["planRun"],
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: "!has(self.planRun) || self.command == 'apply'", message: "planRun is only valid for the apply command" },
      {
        // Only `cancel` may change after creation: what ran must stay what was asked for.
        rule:
          "self.workspace == oldSelf.workspace && self.command == oldSelf.command && self.args == oldSelf.args" +
          " && has(self.archive) == has(oldSelf.archive) && (!has(self.archive) || self.archive == oldSelf.archive)" +
          " && has(self.planRun) == has(oldSelf.planRun) && (!has(self.planRun) || self.planRun == oldSelf.planRun)" +
          " && self.savePlan == oldSelf.savePlan && self.interactive == oldSelf.interactive" +
          " && has(self.outputKey) == has(oldSelf.outputKey) && (!has(self.outputKey) || self.outputKey == oldSelf.outputKey)",
        message: "a run's spec is immutable except for cancel",
      },
    ],
  });
export type RunSpec = z.infer<typeof runSpecSchema>;

export const planSummarySchema = z.object({
  add: z.number().int(),
  change: z.number().int(),
  destroy: z.number().int(),
  import: z.number().int().default(0),
  hasChanges: z.boolean(),
  secretName: z.string().optional().describe("The prefix of the Secrets <secretName>-<index> that hold the saved plan."),
  digest: z.string().optional(),
  size: z.number().int().optional(),
  chunks: z.number().int().optional(),
});
export type PlanSummary = z.infer<typeof planSummarySchema>;

export const runStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  phase: z.enum(RUN_PHASES).optional(),
  exitCode: z.number().int().optional(),
  podName: z.string().optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  waitingFor: z.string().optional().describe("The run this one waits for."),
  plan: planSummarySchema.optional(),
  createdBy: z
    .object({ username: z.string(), groups: z.array(z.string()).default([]) })
    .optional()
    .describe("Who created the run, as the API server authenticated them."),
  onBehalfOf: z.string().optional().describe("The GitHub user (github:<login>) the GitHub receiver created the run for: their RBAC decided it."),
  cloud: cloudRunStatusSchema.optional().describe("A run of a workspace synced to TFC: the TFC run it is."),
  conditions: conditionList.optional(),
});
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(RUN.kind),
  metadata: objectMeta,
  spec: runSpecSchema,
  status: runStatusSchema.optional(),
});
export type Run = z.infer<typeof runSchema>;
