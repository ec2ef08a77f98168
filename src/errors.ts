/**
 * Every error ktf raises on purpose. Code decides by class, people read the message: it
 * names what went wrong and what to do about it, on one line.
 */
export class KtfError extends Error {
  override readonly name: string = "KtfError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The user asked for something that cannot work as asked (bad flag, missing workspace...). */
export class UsageError extends KtfError {
  override readonly name = "UsageError";
}

/** Input that failed schema validation; `issues` are "path: problem" lines. */
export class ValidationError extends KtfError {
  override readonly name = "ValidationError";
  constructor(
    readonly what: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid ${what}: ${issues.join("; ")}`);
  }
}

/** A reconcile error that retrying cannot fix; it is recorded in status and not retried. */
export class TerminalError extends KtfError {
  override readonly name = "TerminalError";
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A reconcile found the informers' cache behind the API where acting on the cached copy
 * could do harm: the key is looked at again, with backoff, and its watch event wakes it as
 * soon as the cache has caught up. Not a failure.
 */
export class StaleCacheError extends KtfError {
  override readonly name = "StaleCacheError";
}

/** The Kubernetes API answered with an error status. */
export class ApiError extends KtfError {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
  get isNotFound(): boolean {
    return this.status === 404;
  }
  get isConflict(): boolean {
    return this.status === 409;
  }
  get isForbidden(): boolean {
    return this.status === 403;
  }
  get isGone(): boolean {
    return this.status === 410;
  }
}

/** The cluster could not be reached at all (DNS, refused, TLS, timeout). */
export class ConnectionError extends KtfError {
  override readonly name = "ConnectionError";
}

/** A state write that would not continue the current state (another lineage, a lower serial). */
export class StateConflictError extends KtfError {
  override readonly name = "StateConflictError";
}

/** A request to the state sidecar that the run's command may not make. */
export class StateAccessError extends KtfError {
  override readonly name = "StateAccessError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The archive's bytes do not match its recorded digest or size. */
export class IntegrityError extends KtfError {
  override readonly name = "IntegrityError";
}

/** A terraform CLI configuration that cannot be read; names the file, line and what was expected. */
export class CliConfigError extends KtfError {
  override readonly name = "CliConfigError";
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
  }
}

/**
 * A Terraform Cloud / Enterprise API answered with an error status. Neither the token nor a
 * sensitive value sent is ever in the message.
 */
export class CloudApiError extends KtfError {
  override readonly name: string = "CloudApiError";
  constructor(
    readonly host: string,
    readonly status: number,
    /** "GET /workspaces/ws-123", for the message and for logs. */
    readonly request: string,
    message: string,
  ) {
    super(message);
  }
}

/** TFC/TFE refused the API token (401). */
export class CloudAuthError extends CloudApiError {
  override readonly name = "CloudAuthError";
  constructor(host: string, request: string) {
    super(host, 401, request, `the token for ${host} was refused (401 to ${request}): give a valid API token for ${host}`);
  }
}

/** A TFC/TFE host could not be reached at all (DNS, refused, TLS, timeout). */
export class CloudConnectionError extends KtfError {
  override readonly name = "CloudConnectionError";
}

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status);
}

/** A cloud workspace that cannot be synced, with the reason its Ready condition gives. */
export class CloudSyncError extends KtfError {
  override readonly name = "CloudSyncError";
  constructor(
    readonly reason: "CloudCredentials" | "CloudWorkspaceTaken" | "CloudSyncFailed" | "CloudUnsupported",
    message: string,
  ) {
    super(message);
  }
}

export function isCloudApiError(err: unknown, status?: number): err is CloudApiError {
  return err instanceof CloudApiError && (status === undefined || err.status === status);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * GitHub's REST API answered with an error status. `request` is "POST /repos/o/r/check-runs"
 * without a query; no token is ever in the message.
 */
export class GitHubApiError extends KtfError {
  override readonly name: string = "GitHubApiError";
  constructor(
    readonly status: number,
    readonly request: string,
    message: string,
  ) {
    super(message);
  }
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/**
 * GitHub refused the App's credentials: its JWT (App ID, private key) or an installation
 * token. `status` is 0 when ktf refused the private key itself, before asking GitHub.
 */
export class GitHubAuthError extends GitHubApiError {
  override readonly name = "GitHubAuthError";
}

/** A GitHub host could not be reached at all (DNS, refused, TLS, timeout). */
export class GitHubConnectionError extends KtfError {
  override readonly name = "GitHubConnectionError";
}

export function isGitHubApiError(err: unknown, status?: number): err is GitHubApiError {
  return err instanceof GitHubApiError && (status === undefined || err.status === status);
}
