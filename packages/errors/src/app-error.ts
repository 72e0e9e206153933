/** What an {@link AppError} may say besides its code and message. */
export interface AppErrorOptions {
  /** Whether the same work can succeed later. Default true: an unknown failure is worth another attempt. */
  retryable?: boolean;
  /** When the failure says when to come back (a 429's Retry-After, an open breaker), ms. */
  retryAfterMs?: number;
  /** The HTTP status behind the failure, when there was a response. */
  status?: number;
  cause?: unknown;
}

/**
 * The one base of kbflow's errors, in the style of bullmq's
 * `src/classes/errors/`: a stable snake_case `code` to match on, whether
 * retrying can help, and when to come back. Every error kbflow throws on
 * purpose is one of its subclasses, one class per meaning, and code decides
 * by `instanceof`, never by probing fields of unknown objects. It crosses the
 * queue as {@link ErrorData} (see error-data.ts), not as text.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? true;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }

  /**
   * A 429: the dependency is healthy but busy. Its Retry-After is waited out
   * by the queue, and a circuit breaker does not count it as a failure.
   */
  get rateLimited(): boolean {
    return this.status === 429;
  }
}

/** A failure that will fail again however often it is tried (a 404, an invalid payload, a bad key). */
export class PermanentError extends AppError {
  constructor(code: string, message: string, opts: Omit<AppErrorOptions, 'retryable' | 'retryAfterMs'> = {}) {
    super(code, message, { ...opts, retryable: false });
  }
}

/** True when the error says retrying cannot help. Errors that are not kbflow's are worth another attempt. */
export function isPermanent(error: unknown): boolean {
  return error instanceof AppError && !error.retryable;
}
