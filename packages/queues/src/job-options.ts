import type { DefaultJobOptions, QueueOptions } from 'bullmq';

/** The backoff type name kbflow's workers implement (see {@link computeBackoff}). */
export const BACKOFF_TYPE = 'kbflow-exponential';

export const DEFAULT_ATTEMPTS = 3;
const BACKOFF_CAP_MS = 30_000;

/**
 * 2^n seconds (n = attempts made), capped at 30 s, with up to 25 % jitter
 * either way so retries of one burst do not land together.
 */
export function computeBackoff(attemptsMade: number, random: () => number = Math.random): number {
  const base = Math.min(2 ** attemptsMade * 1000, BACKOFF_CAP_MS);
  const jitter = (random() * 0.5 - 0.25) * base;
  return Math.max(0, Math.round(base + jitter));
}

/**
 * Defaults of every kbflow queue. Completed jobs are trimmed by age and count
 * so Redis memory stays bounded; failed ones are kept longer for inspection
 * (their history also lives in the dead-letter queue).
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: DEFAULT_ATTEMPTS,
  backoff: { type: BACKOFF_TYPE },
  removeOnComplete: { age: 3600, count: 5000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/** The events stream of each queue is capped; Bull Board and QueueEvents read it. */
const EVENTS_MAX_LEN = 10_000;

export function queueOptions(prefix: string): Pick<QueueOptions, 'prefix' | 'defaultJobOptions' | 'streams'> {
  return {
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  };
}
