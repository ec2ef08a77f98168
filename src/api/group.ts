/** The API group, version and kinds that ktf serves. */
export const GROUP = "ktf.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const WORKSPACE = { kind: "Workspace", plural: "workspaces", singular: "workspace", shortNames: ["ws"] } as const;
export const RUN = { kind: "Run", plural: "runs", singular: "run", shortNames: [] as string[] } as const;

/** Labels and annotations ktf sets on the objects it creates. */
export const LABELS = {
  workspace: `${GROUP}/workspace`,
  run: `${GROUP}/run`,
  component: `${GROUP}/component`,
  managedBy: "app.kubernetes.io/managed-by",
  /** On a ServiceAccount: "true" lets workspaces name it in spec.serviceAccountName. */
  runnerAccount: `${GROUP}/runner-account`,
} as const;

export const FIELD_MANAGER = "ktf";

/** Who created a run, as the API server authenticated them (set and checked at admission). */
export const ANNOTATIONS = {
  createdBy: `${GROUP}/created-by`,
  createdByGroups: `${GROUP}/created-by-groups`,
  /** On a cloud Workspace being deleted: "true" lets it go without carrying out its deletionPolicy. */
  cloudLetGo: `${GROUP}/cloud-let-go`,
  /** On a module Workspace: a new value starts a run of the module as it is. */
  runRequested: `${GROUP}/run-requested`,
} as const;
