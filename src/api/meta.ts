import { z } from "zod";

/** A Kubernetes object name (RFC 1123 subdomain, as most objects use). */
export const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    message: "expected a lowercase RFC 1123 name (a-z, 0-9, '-', '.')",
  });

/** A resource quantity such as 1Gi or 500m. */
export const quantity = z.string().regex(/^[+]?[0-9.]+([eE][+-]?[0-9]+|[numkKMGTPE]i?)?$/, {
  message: "expected a quantity such as 1Gi or 500m",
});

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string(),
  message: z.string().default(""),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof conditionSchema>;

export const conditionList = z
  .array(conditionSchema)
  .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });

export const objectMeta = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.looseObject({ uid: z.string(), kind: z.string(), name: z.string() })).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

/** A key of a Secret or ConfigMap in the same namespace as the object that refers to it. */
const keyRef = z.object({ name: objectName, key: z.string().min(1) });

/**
 * A value read from a Secret or ConfigMap key when the run starts, or, for a cloud
 * workspace, from a file of the operator's mounted variables (terraform-k8s' way).
 */
export const valueSource = z
  .object({
    secretKeyRef: keyRef.optional(),
    configMapKeyRef: keyRef.optional(),
    mounted: z
      .object({ key: z.string().max(253).regex(/^[-._a-zA-Z0-9]+$/, { message: "expected a Secret key (letters, digits, '-', '_', '.')" }) })
      .optional()
      .describe("Cloud workspaces only: the file <namespace>.<key> of the installation's mounted variables Secret (ktf install --cloud-variables), read by the operator alone and pushed to TFC as a sensitive variable."),
  })
  .refine((v) => [v.secretKeyRef, v.configMapKeyRef, v.mounted].filter(Boolean).length === 1, {
    message: "set exactly one of secretKeyRef, configMapKeyRef and mounted",
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: "(has(self.secretKeyRef) ? 1 : 0) + (has(self.configMapKeyRef) ? 1 : 0) + (has(self.mounted) ? 1 : 0) == 1", message: "set exactly one of secretKeyRef, configMapKeyRef and mounted" },
    ],
  });
