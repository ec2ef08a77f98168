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

export function isApiError(err: unknown, status?: number): err is ApiError {
  return err instanceof ApiError && (status === undefined || err.status === status);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
