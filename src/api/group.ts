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
  /** On a Run created from a GitHub pull request: "true" (the receiver watches these). */
  github: `${GROUP}/github`,
  /**
   * On a Run: the first 32 hex digits of its archive's sha256, set by the operator alone once it
   * found the archive whole and matching (admission keeps others from setting it). New runs of
   * the same workspace look it up to reuse that archive instead of uploading it again.
   */
  archiveDigest: `${GROUP}/archive-digest`,
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
  /**
   * On a Run the GitHub receiver creates for a GitHub user: that user (github:<login>), whose
   * RBAC decides a privileged run. Only the receiver's ServiceAccount may set it (admission).
   */
  onBehalfOf: `${GROUP}/on-behalf-of`,
  /** Where a Run from GitHub came from: "owner/repo", the PR number, its head SHA, the App installation, the check run. */
  githubRepository: `${GROUP}/github-repository`,
  githubPull: `${GROUP}/github-pull`,
  githubSha: `${GROUP}/github-sha`,
  githubInstallation: `${GROUP}/github-installation`,
  githubCheckRun: `${GROUP}/github-check-run`,
  /** The receiver's record of what it last told GitHub of the Run (a phase), so a restart does not tell it twice. */
  githubReported: `${GROUP}/github-reported`,
  /** On a Run that reuses the archive of an earlier run (createRunWithArchive): that run. */
  archiveFrom: `${GROUP}/archive-from`,
} as const;

/** A Kubernetes user name for a GitHub user: RoleBindings name `github:<login>` to give them rights. */
export const GITHUB_USER_PREFIX = "github:";
/** The GitHub receiver's ServiceAccount in the operator's namespace. */
export const GITHUB_RECEIVER = "ktf-github";
