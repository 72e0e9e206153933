import { errorMessage } from './errors.ts';

/**
 * What LanceDB (Lance) throws when other writers keep committing first and its
 * own conflict retries (10 per call) run out. Observed here with ten processes
 * writing overlapping ids into one directory: "Failed to execute merge insert:
 * GenericFailure, lance error: Too many concurrent writers. Attempted 10
 * retries., <source location>". The native layer carries no error codes, only
 * texts; "Retryable commit conflict for version" and "Commit conflict for
 * version" are Lance's other conflict messages (found in the native library,
 * not provoked here).
 */
const LANCE_CONFLICT_PATTERN = /too many concurrent writers|retryable commit conflict|commit conflict for version/i;

export function isLanceCommitConflict(error: unknown): boolean {
  return LANCE_CONFLICT_PATTERN.test(errorMessage(error));
}

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Which errors are worth another try. */
  isRetryable: (error: unknown) => boolean;
  /** Injected in tests; Math.random in production. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `op` until it succeeds, throws a non-retryable error, or runs out of
 * attempts. Delays use "full jitter" (uniform in [0, min(max, base * 2^n)]) so
 * writers that collided once do not collide again in lockstep.
 */
export async function retryWithJitter<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (error) {
      if (attempt >= opts.attempts || !opts.isRetryable(error)) throw error;
      const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.round(random() * ceiling));
    }
  }
}
