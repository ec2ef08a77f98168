import { z } from "zod";
import { API_VERSION, WORKSPACE } from "./group.js";
import { DEFAULT_PRIVILEGED_COMMANDS, ENGINE_COMMANDS } from "./commands.js";
import { conditionList, objectMeta, objectName, quantity, valueSource } from "./meta.js";
import { cloudSpecSchema, cloudStatusSchema, moduleSpecSchema } from "./cloud.js";

const oneSource = [
  {
    rule: "has(self.value) != has(self.valueFrom)",
    message: "set exactly one of value and valueFrom",
  },
];

/**
 * The audiences a stock API server accepts when nothing else is configured: its issuer
 * URLs and the historical "kubernetes"/"api". A run's token for one of them would be a
 * Kubernetes credential; the operator also refuses the audiences its own token carries.
 */
/** The key of a CLI configuration Secret that holds the file, unless the workspace names another. */
export const CLI_CONFIG_KEY = "config.tfrc";
/** The key of the CLI configuration's Secret that holds CA certificates the engine trusts too. */
export const CLI_CONFIG_CA_KEY = "ca.crt";

const MOUNTED_NEEDS_CLOUD = "valueFrom.mounted needs cloud: only the operator reads the mounted variables, and only to push them to TFC";

export const DEFAULT_API_AUDIENCES = ["https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local", "kubernetes", "api"];

export const variableSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, { message: "expected a terraform variable name" }),
    value: z.string().optional(),
    valueFrom: valueSource.optional(),
    sensitive: z.boolean().default(false).describe("Masked in ktf's output; the engine marks it sensitive too."),
    hcl: z.boolean().default(false).describe("The value is an HCL expression, not a string."),
  })
  .refine((v) => (v.value === undefined) !== (v.valueFrom === undefined), { message: "set exactly one of value and valueFrom" })
  .meta({ "x-kubernetes-validations": oneSource });
export type Variable = z.infer<typeof variableSchema>;

export const envVarSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected an environment variable name" }),
    value: z.string().optional(),
    valueFrom: valueSource.optional(),
    sensitive: z.boolean().default(false),
  })
  .refine((v) => (v.value === undefined) !== (v.valueFrom === undefined), { message: "set exactly one of value and valueFrom" })
  .meta({ "x-kubernetes-validations": oneSource });
export type EnvVar = z.infer<typeof envVarSchema>;

const tolerationSchema = z.object({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
});

const resourceList = z.record(z.string(), quantity);

/**
 * The repository a workspace's configuration lives in: a pull request to `branch` that
 * touches `workingDir` (the configuration's directory in the repository) or one of `paths`
 * plans it on the PR's head commit.
 */
export const vcsSchema = z.object({
  repository: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { message: "expected a GitHub repository as owner/name" })
    .describe("owner/name on GitHub."),
  branch: z.string().min(1).max(255).default("main").describe("Pull requests to this branch plan the workspace."),
  paths: z
    .array(z.string().min(1).max(512))
    .max(50)
    .default([])
    .describe("More globs of repository paths whose change plans the workspace (picomatch: **, *, {a,b}), beside workingDir and everything under it."),
  applyRequirements: z
    .array(z.enum(["approved", "mergeable"]))
    .default([])
    .describe("What a pull request must be before it may be applied from GitHub: approved by a reviewer, mergeable (no conflicts, required checks passed)."),
});
export type VcsSpec = z.infer<typeof vcsSchema>;

export const workspaceSpecSchema = z.object({
  engine: z
    .object({
      name: z.enum(["tofu", "terraform"]).default("tofu"),
      version: z.string().optional().describe("The engine version runs must use; the run fails when its image has another."),
    })
    .prefault({})
    .describe("Which engine runs the configuration."),
  variables: z.array(variableSchema).max(500).default([]).describe("Terraform input variables."),
  env: z.array(envVarSchema).max(500).default([]).describe("Environment variables for the engine (provider credentials, TF_LOG ...)."),
  serviceAccountName: objectName.optional().describe("The ServiceAccount runs execute as; ktf creates one when unset."),
  identity: z
    .object({
      serviceAccountAnnotations: z
        .record(z.string(), z.string())
        .optional()
        .describe("Set on the ServiceAccount ktf creates: workload identity (iam.gke.io/gcp-service-account, eks.amazonaws.com/role-arn)."),
      tokens: z
        .array(
          z.object({
            audience: z
              .string()
              .min(1)
              .max(512)
              .refine((a) => !DEFAULT_API_AUDIENCES.includes(a), { message: "expected a cloud's audience (sts.amazonaws.com, ...), not the Kubernetes API server's" })
              .meta({
                "x-kubernetes-validations": [
                  { rule: `!(self in ${JSON.stringify(DEFAULT_API_AUDIENCES).replace(/"/g, "'")})`, message: "expected a cloud's audience (sts.amazonaws.com, ...), not the Kubernetes API server's" },
                ],
              }),
            path: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: "expected a lowercase name such as aws" }),
            expirationSeconds: z.number().int().min(600).default(3600),
          }),
        )
        .max(16)
        .default([])
        .describe("Projected ServiceAccount tokens for the engine, at /var/run/secrets/ktf/tokens/<path>/token (a cloud's STS audience)."),
    })
    .prefault({})
    .describe("Credential-free access to clouds through the run's ServiceAccount."),
  cache: z
    .object({ size: quantity, storageClassName: z.string().optional() })
    .optional()
    .describe("A persistent volume for the provider and module cache; an emptyDir when unset."),
  workingDir: z
    .string()
    .max(512)
    .refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), {
      message: "expected a relative path inside the configuration",
    })
    .meta({
      "x-kubernetes-validations": [
        {
          rule: "!self.startsWith('/') && !self.split('/').exists(p, p == '..')",
          message: "expected a relative path inside the configuration",
        },
      ],
    })
    .default("")
    .describe("The directory inside the configuration where the engine runs."),
  image: z.string().optional().describe("The run image; the operator's default when unset."),
  cliConfig: z
    .object({
      secretName: objectName,
      key: z.string().min(1).max(253).default(CLI_CONFIG_KEY),
    })
    .optional()
    .describe(
      "A Secret of this namespace holding a terraform CLI configuration file (provider_installation mirrors, credentials for private registries and TFC, plugin_cache_dir), given to the engine as TF_CLI_CONFIG_FILE. Default: the installation's (ktf install --cli-config-secret), where this namespace has that Secret.",
    ),
  resources: z.object({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(tolerationSchema).optional(),
  privilegedCommands: z
    .array(z.enum(ENGINE_COMMANDS))
    .default([...DEFAULT_PRIVILEGED_COMMANDS])
    .describe("Commands that need the extra permission on this workspace (RBAC verb = the command)."),
  runHistory: z
    .number()
    .int()
    .min(1)
    .max(10000)
    .default(100)
    .describe("How many finished runs to keep (the newest, and the last of each command); older ones are deleted with their pods and plans."),
  stateHistory: z
    .object({
      versions: z.number().int().min(1).max(1000).default(20).describe("How many state versions to keep (the current one always stays)."),
      maxAgeDays: z.number().int().min(1).optional().describe("Also delete versions older than this many days (the newest always stays)."),
    })
    .prefault({})
    .describe("Every state write is kept as a version: how many, for how long."),
  cloud: cloudSpecSchema.optional().describe("Sync this workspace to a Terraform Cloud or Enterprise workspace: TFC keeps its state and runs the engine."),
  module: moduleSpecSchema
    .optional()
    .describe("For a cloud workspace: the operator runs a call of this module (its variables the module's inputs) whenever it or a variable changes, or the annotation ktf.dev/run-requested does; applied when spec.cloud.applyMethod is auto."),
  vcs: vcsSchema.optional().describe("A GitHub repository whose pull requests plan this workspace (ktf github serve): check runs on the PR, apply from it as RBAC allows."),
  backup: z.boolean().default(true).describe("Copy every state version to the installation's backup store (S3 or GCS), when it has one."),
  restoreFromBackup: z.boolean().default(true).describe("A workspace that has no state yet starts from its newest backup, when one exists."),
})
  .refine((s) => !s.module || s.cloud, { message: "module needs cloud: runs of a module are started in TFC", path: ["module"] })
  .refine((s) => s.cloud || ![...s.variables, ...s.env].some((v) => v.valueFrom?.mounted), { message: MOUNTED_NEEDS_CLOUD, path: ["variables"] })
  .meta({
    "x-kubernetes-validations": [
      { rule: "!has(self.module) || has(self.cloud)", message: "module needs cloud: runs of a module are started in TFC" },
      {
        rule: "has(self.cloud) || ((!has(self.variables) || self.variables.all(v, !has(v.valueFrom) || !has(v.valueFrom.mounted))) && (!has(self.env) || self.env.all(v, !has(v.valueFrom) || !has(v.valueFrom.mounted))))",
        message: MOUNTED_NEEDS_CLOUD,
      },
    ],
  });
export type WorkspaceSpec = z.infer<typeof workspaceSpecSchema>;

export const outputSchema = z.object({
  name: z.string(),
  type: z.string().default(""),
  value: z.string().describe("The output's value as JSON."),
});
export type Output = z.infer<typeof outputSchema>;

export const workspaceStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: conditionList.optional(),
  activeRun: z.string().optional().describe("The run that holds the workspace now."),
  queue: z.array(z.string()).optional().describe("Runs waiting for the workspace, first first."),
  lastRuns: z.record(z.string(), z.string()).optional().describe("The newest finished run of each command."),
  outputs: z.array(outputSchema).optional().describe("Non-sensitive outputs; all of them are in outputsSecret."),
  outputsSecret: z.string().optional().describe("The Secret with every output, sensitive ones too, as JSON by name."),
  outputsConfigMap: z.string().optional().describe("The ConfigMap with the non-sensitive outputs by name: strings as they are, other values as JSON."),
  stateSerial: z.number().int().optional(),
  stateVersion: z.string().optional().describe("The current state version (the prefix of its Secrets)."),
  stateVersions: z
    .array(
      z.object({
        serial: z.number().int(),
        lineage: z.string(),
        written: z.string(),
        size: z.number().int(),
        run: z.string().optional(),
        user: z.string().optional(),
      }),
    )
    .optional()
    .describe("The state versions kept, newest first."),
  backup: z
    .object({
      stores: z
        .array(
          z.object({
            store: z.string().describe("s3://bucket/prefix or gs://bucket/prefix"),
            serial: z.number().int().optional().describe("The newest serial copied there."),
            time: z.string().optional(),
            failures: z.number().int().optional().describe("Failed attempts since the last success."),
          }),
        )
        .optional(),
      restoreChecked: z.boolean().optional().describe("Whether the operator looked for a backup to start from."),
      restoredSerial: z.number().int().optional().describe("The backup serial the state was restored from."),
    })
    .optional(),
  serviceAccountName: z.string().optional().describe("The ServiceAccount runs execute as."),
  cloud: cloudStatusSchema.optional(),
  operatorVersion: z.string().optional().describe("The version of the ktf operator that last reconciled the workspace (users may read this, not the operator's Deployment)."),
});
export type WorkspaceStatus = z.infer<typeof workspaceStatusSchema>;

export const workspaceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(WORKSPACE.kind),
  metadata: objectMeta,
  spec: workspaceSpecSchema.prefault({}),
  status: workspaceStatusSchema.optional(),
});
export type Workspace = z.infer<typeof workspaceSchema>;
