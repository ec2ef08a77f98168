import { z } from "zod";
import { GROUP, RUN, VERSION, WORKSPACE } from "./group.js";
import { runSpecSchema, runStatusSchema } from "./run.js";
import { workspaceSpecSchema, workspaceStatusSchema } from "./workspace.js";

type JsonSchema = { [key: string]: unknown };

/**
 * Turns a zod schema into a structural OpenAPI v3 schema as Kubernetes wants it: the
 * input shape (defaults are applied by the API server), no `$schema`, no
 * `additionalProperties: false` (Kubernetes prunes unknown fields itself), and the
 * `x-kubernetes-*` markers that the schemas carry in their metadata.
 */
export function openApiSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input", target: "openapi-3.0", unrepresentable: "any" }) as JsonSchema;
  return structural(json);
}

/** `names`: the node is a `properties` map, whose keys are field names (a field may be called "id"), not keywords. */
function structural(node: unknown, names = false): JsonSchema {
  if (Array.isArray(node)) return node.map((n) => structural(n)) as unknown as JsonSchema;
  if (node === null || typeof node !== "object") return node as JsonSchema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (names) {
      out[key] = structural(value);
      continue;
    }
    if (key === "$schema" || key === "id") continue;
    if (key === "additionalProperties" && value === false) continue;
    // zod bounds every integer to JavaScript's safe range; Kubernetes has its own (int64).
    if ((key === "maximum" || key === "minimum") && Math.abs(value as number) === Number.MAX_SAFE_INTEGER) continue;
    out[key] = typeof value === "object" && value !== null && !key.startsWith("x-kubernetes") ? structural(value, key === "properties") : value;
  }
  return out;
}

interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date";
  jsonPath: string;
  priority?: number;
}

function crd(
  names: { kind: string; plural: string; singular: string; shortNames: readonly string[] },
  spec: z.ZodType,
  status: z.ZodType,
  columns: PrinterColumn[],
  categories: string[],
) {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${names.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        ...(names.shortNames.length ? { shortNames: [...names.shortNames] } : {}),
        categories,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...columns, { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }],
          schema: {
            openAPIV3Schema: {
              type: "object",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: openApiSchema(spec),
                status: openApiSchema(status),
              },
            },
          },
        },
      ],
    },
  };
}

export type CustomResourceDefinition = ReturnType<typeof crd>;

export function workspaceCrd(): CustomResourceDefinition {
  return crd(
    WORKSPACE,
    workspaceSpecSchema,
    workspaceStatusSchema,
    [
      { name: "Engine", type: "string", jsonPath: ".spec.engine.name" },
      { name: "Active", type: "string", jsonPath: ".status.activeRun" },
      { name: "Queued", type: "string", jsonPath: ".status.queue", priority: 1 },
      { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    ],
    ["ktf", "all"],
  );
}

export function runCrd(): CustomResourceDefinition {
  return crd(
    { ...RUN, shortNames: [] },
    runSpecSchema,
    runStatusSchema,
    [
      { name: "Workspace", type: "string", jsonPath: ".spec.workspace" },
      { name: "Command", type: "string", jsonPath: ".spec.command" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Exit", type: "integer", jsonPath: ".status.exitCode" },
      { name: "User", type: "string", jsonPath: ".status.createdBy.username", priority: 1 },
    ],
    ["ktf"],
  );
}
