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

/** TFC's notification triggers (its API documentation's list). */
export const NOTIFICATION_TRIGGERS = [
  "run:created", "run:planning", "run:needs_attention", "run:applying", "run:completed", "run:errored",
  "assessment:drifted", "assessment:failed", "assessment:check_failure",
  "workspace:auto_destroy_reminder", "workspace:auto_destroy_run_results",
] as const;

const notificationSchema = z
  .object({
    name: z.string().min(1).max(255),
    type: z.enum(["generic", "slack", "microsoft-teams", "email"]).describe("TFC's destination type; email is TFE's and needs emailAddresses."),
    enabled: z.boolean().default(true),
    url: z.url({ protocol: /^https?$/ }).optional().describe("Where TFC posts: the webhook of generic, slack and microsoft-teams."),
    emailAddresses: z.array(z.email()).max(100).optional().describe("For type email."),
    triggers: z.array(z.enum(NOTIFICATION_TRIGGERS)).default([]).describe("The events TFC notifies of; none: only verification."),
    token: z
      .object({ secretKeyRef: z.object({ name: objectName, key: z.string().min(1) }) })
      .optional()
      .describe("For type generic: the key TFC signs its payloads with (X-TFE-Notification-Signature), from a Secret of this namespace; write-only in TFC."),
  })
  .refine((n) => n.type === "email" || Boolean(n.url), { message: "url is needed for a generic, slack or microsoft-teams notification", path: ["url"] })
  .refine((n) => n.type !== "email" || Boolean(n.emailAddresses?.length), { message: "emailAddresses is needed for an email notification", path: ["emailAddresses"] })
  .refine((n) => n.type === "generic" || !n.token, { message: "token is only for a generic notification", path: ["token"] })
  .meta({
    "x-kubernetes-validations": [
      { rule: "self.type == 'email' || has(self.url)", message: "url is needed for a generic, slack or microsoft-teams notification" },
      { rule: "self.type != 'email' || (has(self.emailAddresses) && size(self.emailAddresses) > 0)", message: "emailAddresses is needed for an email notification" },
      { rule: "self.type == 'generic' || !has(self.token)", message: "token is only for a generic notification" },
    ],
  });
export type NotificationSpec = z.infer<typeof notificationSchema>;

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
      .enum(["retain", "soft", "destroy", "force"])
      .default("retain")
      .describe(
        "What deleting the Workspace does to the TFC workspace: retain keeps it and its state; soft deletes it only if it manages no resources (TFC's safe-delete); destroy runs a destroy, then deletes it; force deletes it and its state whatever it manages. destroy and force need the RBAC verb destroy on the workspace to set. The annotation ktf.dev/cloud-let-go: \"true\" lets a Workspace whose policy cannot be carried out go.",
      ),
    project: z.string().min(1).max(40).optional().describe("The TFC project the workspace belongs to, by name; TFC's default project when unset."),
    runTriggers: z
      .array(
        z
          .object({ workspace: tfcName.optional().describe("A TFC workspace of the same organization, by name."), id: z.string().regex(/^ws-[A-Za-z0-9]+$/, { message: "expected a TFC workspace ID (ws-...)" }).optional() })
          .refine((t) => Boolean(t.workspace) !== Boolean(t.id), { message: "set exactly one of workspace and id" })
          .meta({ "x-kubernetes-validations": [{ rule: "has(self.workspace) != has(self.id)", message: "set exactly one of workspace and id" }] }),
      )
      .max(20)
      .default([])
      .describe("TFC run triggers: an apply in one of these workspaces queues a run in this one. Those not listed are removed."),
    notifications: z
      .array(notificationSchema)
      .max(20)
      .default([])
      .describe("TFC notification configurations, by name; those not listed are removed."),
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

const outputName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, { message: "expected a terraform output name" });

/**
 * Runs started from Kubernetes, as terraform-k8s had them: the configuration is a call of this
 * module, with the workspace's terraform variables as its inputs and the outputs named here
 * as the root's; a change of it (or of a variable's value) starts a run.
 */
export const moduleSpecSchema = z.object({
  source: z
    .string()
    .min(1)
    .max(1024)
    .refine((s) => !/^(\.\.?\/|\/)/.test(s), { message: "expected a registry address or a remote source (git::, https://...): a local path has nothing to point at" })
    .meta({ "x-kubernetes-validations": [{ rule: "!self.startsWith('./') && !self.startsWith('../') && !self.startsWith('/')", message: "expected a registry address or a remote source (git::, https://...): a local path has nothing to point at" }] })
    .describe("The module's source, as in a module block (app.terraform.io/acme/network/aws, git::https://..., https://.../module.tgz)."),
  version: z.string().min(1).max(64).optional().describe("The version constraint, for a registry source."),
  outputs: z
    .array(z.object({ name: outputName, sensitive: z.boolean().default(false).describe("The module's output is sensitive (terraform requires the root's to say so).") }))
    .max(200)
    .default([])
    .describe("The module's outputs that become the workspace's (in status and the outputs Secret)."),
});
export type ModuleSpec = z.infer<typeof moduleSpecSchema>;

export const moduleStatusSchema = z.object({
  digest: z.string().describe("The digest of the configuration and variables the last run started for."),
  run: z.string().describe("The Run started for it."),
});

export const cloudDeletionStatusSchema = z.object({
  runId: z.string().optional().describe("The destroy run of deletionPolicy destroy."),
  attempts: z.number().int().describe("Failed attempts so far."),
  retryAt: z.string().optional().describe("When the next attempt is made."),
});
export type CloudDeletionStatus = z.infer<typeof cloudDeletionStatusSchema>;

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
  runTriggers: z.array(z.string()).optional().describe("The source workspaces (ws-...) of the run triggers the operator keeps."),
  notifications: z
    .record(z.string(), z.string())
    .optional()
    .describe("The notification configurations the operator keeps, by name: an HMAC of a generic one's token (write-only in TFC), else empty."),
  module: moduleStatusSchema.optional().describe("spec.module: the run started for the current module and variables."),
  deletion: cloudDeletionStatusSchema
    .optional()
    .describe("While the Workspace is deleted: how far its deletionPolicy got."),
});
export type CloudStatus = z.infer<typeof cloudStatusSchema>;


const cloudPhaseSchema = z.object({
  status: z.string().describe("TFC's status of the phase (pending, queued, running, finished, errored, canceled, unreachable)."),
  logUrl: z
    .string()
    .optional()
    .describe("TFC's log-read-url of the phase: a signed URL that reads this log alone, for a limited time (an hour on OTF), and carries no API token. The CLI streams the log from it."),
});

export const cloudRunStatusSchema = z.object({
  runId: z.string().optional().describe("The TFC run (run-...) this Run is, or confirms; unset between the upload of its configuration version and the run's creation."),
  configurationVersionId: z.string().optional().describe("The configuration version (cv-...) the operator uploaded the Run's configuration to: a TFC run on it is this Run's."),
  status: z.string().optional().describe("TFC's status of the run (pending, planning, planned, applying, applied, errored, ...)."),
  workspaceId: z.string(),
  positionInQueue: z.number().int().optional(),
  confirmed: z.boolean().optional().describe("An apply of a saved plan: the operator confirmed the TFC run."),
  plan: cloudPhaseSchema.optional(),
  apply: cloudPhaseSchema.optional(),
});
export type CloudRunStatus = z.infer<typeof cloudRunStatusSchema>;
