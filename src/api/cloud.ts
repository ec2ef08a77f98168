import { z } from "zod";
import { objectName } from "./meta.js";

/**
 * A Workspace synced to a Terraform Cloud or Enterprise workspace (spec.cloud): TFC keeps
 * the state and the lock and runs the engine; ktf keeps the TFC workspace's settings and
 * variables as the spec says and shows its current run, state serial and outputs.
 */
export const DEFAULT_CLOUD_HOSTNAME = "app.terraform.io";

/** TFC's own rules for workspace names and tags, so that a bad one is refused at admission. */
const tfcName = z
  .string()
  .min(1)
  .max(90)
  .regex(/^[A-Za-z0-9_-]+$/, { message: "expected a TFC workspace name: letters, digits, '-' and '_', at most 90" });
const tag = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9:_-]*$/, { message: "expected a TFC tag: lowercase letters, digits, ':', '-' and '_'" });

export const cloudSpecSchema = z
  .object({
    hostname: z
      .string()
      .min(1)
      .max(253)
      .default(DEFAULT_CLOUD_HOSTNAME)
      .describe("The TFC or TFE host, as in the CLI configuration's credentials block (app.terraform.io)."),
    organization: z.string().min(1).max(255).describe("The TFC organization."),
    workspace: tfcName.optional().describe("The TFC workspace's name; default <namespace>-<name>."),
    adopt: z
      .boolean()
      .default(false)
      .describe("Take over an existing TFC workspace of that name; without it, one that exists and is not this Workspace's is refused, so two clusters never fight over one."),
    tags: z.array(tag).max(50).default([]),
    terraformVersion: z.string().max(64).optional().describe("The engine version TFC runs; TFC's default when unset."),
    executionMode: z.enum(["remote", "local", "agent"]).default("remote"),
    agentPool: z.string().min(1).max(64).optional().describe("The agent pool's ID (apool-...), for executionMode agent."),
    applyMethod: z.enum(["auto", "manual"]).default("manual").describe("auto applies a plan with changes without asking (TFC's auto-apply)."),
    deletionPolicy: z
      .enum(["retain"])
      .default("retain")
      .describe("Deleting the Workspace keeps the TFC workspace and its state (retain; the only policy of this version)."),
    token: z
      .object({ secretKeyRef: z.object({ name: objectName, key: z.string().min(1) }) })
      .optional()
      .describe("A TFC API token for this workspace alone, from a Secret of this namespace; default: the installation's credentials file (ktf install --cloud-credentials)."),
  })
  .refine((c) => (c.executionMode === "agent") === Boolean(c.agentPool), { message: "agentPool is set exactly when executionMode is agent" })
  .meta({
    "x-kubernetes-validations": [{ rule: "(self.executionMode == 'agent') == has(self.agentPool)", message: "agentPool is set exactly when executionMode is agent" }],
  });
export type CloudSpec = z.infer<typeof cloudSpecSchema>;

export const cloudStatusSchema = z.object({
  workspaceId: z.string().optional().describe("The TFC workspace's ID (ws-...)."),
  workspaceName: z.string().optional(),
  adopted: z.boolean().optional(),
  run: z
    .object({ id: z.string(), status: z.string() })
    .optional()
    .describe("The TFC workspace's current run."),
  variables: z
    .record(z.string(), z.string())
    .optional()
    .describe("For each variable the operator set (terraform:NAME or env:NAME), an HMAC of what it set, keyed by the token: TFC never returns a sensitive value, so a change is seen by this, and the value is never kept."),
});
export type CloudStatus = z.infer<typeof cloudStatusSchema>;
