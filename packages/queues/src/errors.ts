/**
 * An error that knows whether trying again can help. Processors throw these
 * (or let others through); the worker wrapper turns a non-retryable one into
 * BullMQ's UnrecoverableError so no attempts are wasted on it.
 */
export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  /** Set when the failure says when to come back (a 429's Retry-After, an open breaker). */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, opts: { retryable?: boolean; cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = opts.retryable ?? true;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A failure that will fail again however often it is tried (a 404, an invalid payload). */
export class PermanentError extends AppError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: false, cause });
    this.name = 'PermanentError';
  }
}

/**
 * Not a failure: this one job must wait (a host's politeness delay or
 * back-off, a tenant's share of the workers) while the rest of its queue
 * keeps flowing. The worker wrapper moves the job to `delayed` until
 * `delayMs` from now with its attempts intact; `reason` is a short stable
 * word (`host-backoff`, `tenant-limit`) for metrics and task status.
 */
export class JobDeferral extends Error {
  readonly code = 'deferred';
  readonly delayMs: number;
  readonly reason: string;

  constructor(reason: string, delayMs: number) {
    super(`deferred (${reason}) for ${Math.round(delayMs)} ms`);
    this.name = 'JobDeferral';
    this.reason = reason;
    this.delayMs = Math.min(Math.max(0, delayMs), MAX_DEFERRAL_MS);
  }
}

/** Longest one deferral may be; a job deferred again after it is simply deferred once more. */
export const MAX_DEFERRAL_MS = 15 * 60_000;

/** Longest wait a rate limit may impose on a queue; a bigger Retry-After is capped. */
export const MAX_RATE_LIMIT_MS = 5 * 60_000;

/**
 * How long the queue should wait when an error says "come back later": a 429
 * with Retry-After from the provider or a site, or an open circuit breaker.
 * Undefined for every other error (those are ordinary failed attempts).
 */
export function rateLimitDelay(error: unknown): number | undefined {
  const e = error as { retryAfterMs?: unknown; retryable?: unknown } | null;
  if (typeof e?.retryAfterMs !== 'number' || !Number.isFinite(e.retryAfterMs) || e.retryable === false) return undefined;
  return Math.min(Math.max(e.retryAfterMs, 100), MAX_RATE_LIMIT_MS);
}

/** True when the error says retrying cannot help. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof AppError) return !error.retryable;
  // Errors of other packages (ProviderError, VectorStoreError) carry the same
  // `retryable` flag without depending on this package.
  const flagged = error as { retryable?: unknown; name?: string } | null;
  if (typeof flagged?.retryable === 'boolean') return !flagged.retryable;
  return flagged?.name === 'ZodError';
}

/**
 * Errors cross the queue boundary as `failedReason` strings; the code travels
 * in front so the API can map it back (`code: message`).
 */
export function serializeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code)) return `${code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Reads back `code: message` written by {@link serializeError}. */
export function deserializeError(reason: string): { code: string; message: string } {
  const match = /^([a-z][a-z0-9_]*): (.*)$/s.exec(reason);
  return match ? { code: match[1]!, message: match[2]! } : { code: 'job_failed', message: reason };
}
