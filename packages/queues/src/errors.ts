import { AppError } from '@kbflow/errors';

// The error model itself (AppError, PermanentError, ErrorData) lives in
// @kbflow/errors, which every package can depend on; these are the queue's
// own signals and rules on top of it.

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
  if (!(error instanceof AppError) || error.retryAfterMs === undefined || !Number.isFinite(error.retryAfterMs) || !error.retryable) return undefined;
  return Math.min(Math.max(error.retryAfterMs, 100), MAX_RATE_LIMIT_MS);
}
