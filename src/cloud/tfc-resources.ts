import { z } from "zod";

/**
 * The TFC/TFE API v2 resources ktf reads, as JSON:API documents on the wire (kebab-case
 * attributes) and as the camelCase objects the client returns. Attributes that some servers
 * omit (OTF, older TFE) are optional; unknown ones are dropped.
 */

const reference = z.object({ id: z.string(), type: z.string() });
const relationship = z.object({ data: z.union([reference, z.array(reference), z.null()]).optional() }).loose();

function resource<A extends z.ZodType>(type: string, attributes: A) {
  return z.object({
    id: z.string(),
    type: z.literal(type),
    attributes,
    relationships: z.record(z.string(), relationship).optional(),
  });
}

type Resource = { id: string; relationships?: Record<string, z.infer<typeof relationship>> | undefined };

/** The id of a to-one relationship, if the server gave one. */
export function relatedId(r: Resource, name: string): string | undefined {
  const data = r.relationships?.[name]?.data;
  return data && !Array.isArray(data) ? data.id : undefined;
}

const text = z.string().nullish().transform((s) => s ?? "");

export const organizationResource = resource("organizations", z.object({ email: text }));
export const toOrganization = (r: z.infer<typeof organizationResource>) => ({ name: r.id, email: r.attributes.email });
export type Organization = ReturnType<typeof toOrganization>;

export const workspaceResource = resource(
  "workspaces",
  z.object({
    name: z.string(),
    "terraform-version": text,
    "execution-mode": text,
    "agent-pool-id": text,
    "auto-apply": z.boolean().nullish(),
    "working-directory": text,
    "tag-names": z.array(z.string()).nullish(),
    locked: z.boolean().nullish(),
    description: text,
  }),
);
export function toWorkspace(r: z.infer<typeof workspaceResource>) {
  const a = r.attributes;
  return {
    id: r.id,
    name: a.name,
    organization: relatedId(r, "organization"),
    terraformVersion: a["terraform-version"],
    executionMode: a["execution-mode"],
    agentPoolId: a["agent-pool-id"] || relatedId(r, "agent-pool"),
    autoApply: a["auto-apply"] ?? false,
    workingDirectory: a["working-directory"],
    tagNames: a["tag-names"] ?? [],
    locked: a.locked ?? false,
    description: a.description,
    projectId: relatedId(r, "project"),
    currentRunId: relatedId(r, "current-run"),
  };
}
export type Workspace = ReturnType<typeof toWorkspace>;

export const variableCategories = ["terraform", "env"] as const;
export const variableResource = resource(
  "vars",
  z.object({
    key: z.string(),
    // TFC answers null for a sensitive variable's value; OTF answers "".
    value: z.string().nullish(),
    category: z.enum(variableCategories),
    hcl: z.boolean().nullish(),
    sensitive: z.boolean().nullish(),
    description: text,
  }),
);
export function toVariable(r: z.infer<typeof variableResource>) {
  const a = r.attributes;
  const sensitive = a.sensitive ?? false;
  return {
    id: r.id,
    key: a.key,
    /** Never the value of a sensitive variable: servers do not give it back. */
    value: sensitive ? undefined : (a.value ?? ""),
    category: a.category,
    hcl: a.hcl ?? false,
    sensitive,
    description: a.description,
  };
}
export type Variable = ReturnType<typeof toVariable>;

export const configurationVersionResource = resource(
  "configuration-versions",
  z.object({ status: z.string(), "upload-url": z.string().nullish(), speculative: z.boolean().nullish() }),
);
export const toConfigurationVersion = (r: z.infer<typeof configurationVersionResource>) => ({
  id: r.id,
  status: r.attributes.status,
  uploadUrl: r.attributes["upload-url"] ?? undefined,
  speculative: r.attributes.speculative ?? false,
});
export type ConfigurationVersion = ReturnType<typeof toConfigurationVersion>;

export const runResource = resource(
  "runs",
  z.object({
    status: z.string(),
    message: text,
    "is-destroy": z.boolean().nullish(),
    "has-changes": z.boolean().nullish(),
    "auto-apply": z.boolean().nullish(),
    "plan-only": z.boolean().nullish(),
    "position-in-queue": z.number().nullish(),
    "created-at": text,
    actions: z
      .object({
        "is-cancelable": z.boolean().nullish(),
        "is-confirmable": z.boolean().nullish(),
        "is-discardable": z.boolean().nullish(),
        "is-force-cancelable": z.boolean().nullish(),
      })
      .nullish(),
  }),
);
export function toRun(r: z.infer<typeof runResource>) {
  const a = r.attributes;
  return {
    id: r.id,
    status: a.status,
    message: a.message,
    isDestroy: a["is-destroy"] ?? false,
    hasChanges: a["has-changes"] ?? false,
    planOnly: a["plan-only"] ?? false,
    positionInQueue: a["position-in-queue"] ?? undefined,
    createdAt: a["created-at"],
    isCancelable: a.actions?.["is-cancelable"] ?? false,
    isConfirmable: a.actions?.["is-confirmable"] ?? false,
    isDiscardable: a.actions?.["is-discardable"] ?? false,
    workspaceId: relatedId(r, "workspace"),
    planId: relatedId(r, "plan"),
    applyId: relatedId(r, "apply"),
    configurationVersionId: relatedId(r, "configuration-version"),
  };
}
export type Run = ReturnType<typeof toRun>;

/** Run statuses after which nothing more happens. */
export const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set([
  "applied", "planned_and_finished", "planned_and_saved", "discarded", "errored", "canceled", "force_canceled", "policy_soft_failed",
]);
export const isFinalRunStatus = (status: string): boolean => FINAL_RUN_STATUSES.has(status);

const phaseAttributes = z.object({
  status: z.string(),
  "log-read-url": z.string().nullish(),
  "resource-additions": z.number().nullish(),
  "resource-changes": z.number().nullish(),
  "resource-destructions": z.number().nullish(),
});
export const planResource = resource("plans", phaseAttributes.extend({ "has-changes": z.boolean().nullish() }));
export const applyResource = resource("applies", phaseAttributes);
export function toPhase(r: z.infer<typeof planResource> | z.infer<typeof applyResource>) {
  const a = r.attributes;
  return {
    id: r.id,
    status: a.status,
    logReadUrl: a["log-read-url"] ?? undefined,
    additions: a["resource-additions"] ?? undefined,
    changes: a["resource-changes"] ?? undefined,
    destructions: a["resource-destructions"] ?? undefined,
  };
}
export type Phase = ReturnType<typeof toPhase>;
/** Plan and apply statuses after which their log is complete. */
export const FINAL_PHASE_STATUSES: ReadonlySet<string> = new Set(["finished", "errored", "canceled", "unreachable"]);

export const stateOutputResource = resource(
  "state-version-outputs",
  z.object({ name: z.string(), sensitive: z.boolean().nullish(), type: text, value: z.unknown().optional() }),
);
export const toStateOutput = (r: z.infer<typeof stateOutputResource>) => ({
  id: r.id,
  name: r.attributes.name,
  sensitive: r.attributes.sensitive ?? false,
  type: r.attributes.type,
  value: r.attributes.value,
});
export type StateOutput = ReturnType<typeof toStateOutput>;

export const stateVersionResource = resource(
  "state-versions",
  z.object({ serial: z.number(), "resources-processed": z.boolean().nullish(), "created-at": text }),
);

export const projectResource = resource("projects", z.object({ name: z.string() }));
export const toProject = (r: z.infer<typeof projectResource>) => ({ id: r.id, name: r.attributes.name });
export type Project = ReturnType<typeof toProject>;

export const tagResource = resource("tags", z.object({ name: z.string() }));

export const runTriggerResource = resource("run-triggers", z.object({ "sourceable-name": text, "workspace-name": text }));
export const toRunTrigger = (r: z.infer<typeof runTriggerResource>) => ({
  id: r.id,
  sourceableName: r.attributes["sourceable-name"],
  sourceableId: relatedId(r, "sourceable"),
  workspaceId: relatedId(r, "workspace"),
});
export type RunTrigger = ReturnType<typeof toRunTrigger>;

export const notificationDestinations = ["generic", "email", "slack", "microsoft-teams"] as const;
export const notificationResource = resource(
  "notification-configurations",
  z.object({
    name: z.string(),
    "destination-type": z.string(),
    enabled: z.boolean().nullish(),
    url: z.string().nullish(),
    triggers: z.array(z.string()).nullish(),
    "email-addresses": z.array(z.string()).nullish(),
  }),
);
export const toNotification = (r: z.infer<typeof notificationResource>) => ({
  id: r.id,
  name: r.attributes.name,
  destinationType: r.attributes["destination-type"],
  enabled: r.attributes.enabled ?? false,
  url: r.attributes.url ?? undefined,
  triggers: r.attributes.triggers ?? [],
  emailAddresses: r.attributes["email-addresses"] ?? [],
});
export type NotificationConfiguration = ReturnType<typeof toNotification>;

/** A JSON:API document whose primary data is one resource, and what it includes. */
export function single<R extends z.ZodType>(data: R) {
  return z.object({ data, included: z.array(z.unknown()).optional() });
}

/** A JSON:API document whose primary data is a list, with TFC's pagination. */
export function list<R extends z.ZodType>(data: R) {
  return z.object({
    data: z.array(data),
    meta: z.object({ pagination: z.object({ "next-page": z.number().nullish() }).loose().optional() }).loose().optional(),
  });
}
