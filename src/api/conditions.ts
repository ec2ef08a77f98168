/** Condition types and reasons: the vocabulary of ktf's status. */
export const CONDITION = {
  /** Workspace: its ServiceAccount, RBAC and cache exist and its spec is valid. */
  Ready: "Ready",
  /** Run: waiting for its turn, its archive or its workspace. */
  Queued: "Queued",
  /** Run: finished, one way or another. */
  Complete: "Complete",
  /** Workspace: its newest state version is copied to the backup store. */
  BackedUp: "BackedUp",
} as const;

export const REASON = {
  Reconciled: "Reconciled",
  InvalidSpec: "InvalidSpec",
  WaitingForRun: "WaitingForRun",
  WaitingForArchive: "WaitingForArchive",
  /** The upload is complete: the run takes its place in the queue (see runQueue). */
  ArchiveUploaded: "ArchiveUploaded",
  WorkspaceNotFound: "WorkspaceNotFound",
  PlanNotFound: "PlanNotFound",
  Started: "Started",
  InProgress: "InProgress",
  Succeeded: "Succeeded",
  Failed: "Failed",
  Canceled: "Canceled",
  PodLost: "PodLost",
  ArchiveIncomplete: "ArchiveIncomplete",
  /** The archive's chunks are not what its digest and size say (changed, or mixed up with another's). */
  ArchiveInvalid: "ArchiveInvalid",
  PodCannotStart: "PodCannotStart",
  PodRefused: "PodRefused",
  /** The workspace asks for a ServiceAccount or a token its runs may not have. */
  IdentityRefused: "IdentityRefused",
  /** A rollback or recover names a stored state that is not there. */
  StateNotFound: "StateNotFound",
  /** A plan whose saved plan ktf does not keep (posted twice, no report from the state sidecar). */
  PlanNotKept: "PlanNotKept",
  /** The engine could not save the state; ktf kept it for `ktf state recover`. */
  StateNotSaved: "StateNotSaved",
  /** The run's creator may not run it in its workspace as the workspace is now. */
  Forbidden: "Forbidden",
  BackedUp: "BackedUp",
  BackupFailed: "BackupFailed",
  BackupDisabled: "BackupDisabled",
  /** The TFC workspace is as the spec says. */
  CloudSynced: "CloudSynced",
  /** No token for the TFC host, or TFC refused it. */
  CloudCredentials: "CloudCredentials",
  /** A TFC workspace of that name exists and is not this Workspace's (spec.cloud.adopt takes it). */
  CloudWorkspaceTaken: "CloudWorkspaceTaken",
  /** TFC answered with an error, or could not be reached. */
  CloudSyncFailed: "CloudSyncFailed",
  /** The spec needs a call this TFC/TFE server does not serve (an old TFE, OTF): run triggers, notifications, projects. */
  CloudUnsupported: "CloudUnsupported",
  /** A run of a TFC workspace waits for TFC (its queue, the workspace's sync, a plan to confirm). */
  WaitingForCloud: "WaitingForCloud",
  /** TFC refused to start or confirm the run. */
  CloudRunFailed: "CloudRunFailed",
  /** Deleting the Workspace: its deletionPolicy is being carried out (a destroy run). */
  CloudDeleting: "CloudDeleting",
  /** Deleting the Workspace: its deletionPolicy could not be carried out yet. */
  CloudDeletionFailed: "CloudDeletionFailed",
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];
