import { DelayedError, MetricsTime, RateLimitError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { WORKER_LOCK_DEFAULTS } from '@kbflow/config';
import { isDatabaseUnavailable } from '@kbflow/db/database-unavailable';
import { decodeError, describeErrorData, encodeError, isPermanent, PermanentError } from '@kbflow/errors';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { jobNamesOf, parseJobData, QueueName, type JobData, type JobName } from './catalog.ts';
import { JobDeferral, rateLimitDelay } from './errors.ts';
import { jobMetrics } from './job-metrics.ts';
import { OutageBackoff } from './outage-backoff.ts';
import { DeadLetters } from './dead-letters.ts';
import { computeBackoff, DEFAULT_ATTEMPTS } from './job-options.ts';
import { traceJobs } from './job-tracing.ts';
import type { JobProducer } from './producer.ts';
import type { TenantSlots } from './tenant-slots.ts';

/** What a processor receives besides its parsed payload. */
export interface JobContext {
  job: Job;
  log: Logger;
  correlationId: string;
}

export type JobHandler<Q extends QueueName, N extends JobName<Q>> = (data: JobData<Q, N>, ctx: JobContext) => Promise<unknown>;

/** One handler per job name of the queue: start-up fails when one is missing. */
export type JobHandlers<Q extends QueueName> = { [N in JobName<Q>]: JobHandler<Q, N> };

/**
 * For tests that exercise some of a queue's jobs: the other job names get a
 * handler that fails permanently, so an unexpected job is loud, not lost.
 */
export function someHandlers<Q extends QueueName>(queue: Q, handlers: Partial<JobHandlers<Q>>): JobHandlers<Q> {
  const all: Record<string, unknown> = { ...handlers };
  for (const name of jobNamesOf(queue)) {
    all[name] ??= async () => {
      throw new PermanentError('no_handler', `${queue}/${name} has no handler in this test`);
    };
  }
  return all as JobHandlers<Q>;
}

export interface CreateWorkerOptions<Q extends QueueName> {
  queue: Q;
  handlers: JobHandlers<Q>;
  connection: Redis;
  producer: JobProducer;
  log: Logger;
  registry: Registry;
  concurrency?: number;
  /**
   * How long a job's lock lives without renewal. A killed worker's job comes
   * back after lockDuration plus one or two stalledIntervals (BullMQ's
   * checker can skip a beat); 30 s each tolerates event-loop stalls of
   * several seconds (KBFLOW_LOCK_DURATION_MS, KBFLOW_STALLED_INTERVAL_MS).
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /**
   * Each tenant's share of the workers (maxConcurrentProcessing): a job of
   * a tenant over it is deferred, its attempt not spent. Without it no
   * tenant is limited.
   */
  tenantSlots?: TenantSlots;
}

/**
 * The one place a BullMQ Worker is built. It owns the cross-cutting parts:
 * payload validation, a child logger per job, duration and outcome metrics,
 * error classification (permanent errors become UnrecoverableError so no
 * attempts are wasted; a {@link JobDeferral} delays one job without spending
 * an attempt), the capped exponential backoff, and dead-lettering after the
 * last attempt.
 *
 * PostgreSQL being unreachable ({@link isDatabaseUnavailable}) is not a
 * failed attempt either: the queue waits (rate-limited for the outage so
 * far, 2 s growing to 30 s, see {@link OutageBackoff}) and the job goes back
 * with its attempts intact. A classification of the error, not a breaker:
 * every job of every service needs the database, so there is nothing to
 * fail fast to and no other work to keep flowing; the error itself says
 * "connection" precisely (a constraint violation still fails the attempt),
 * from the very first job, where a breaker would let its first N failures
 * spend attempts; and the next job after the wait is the probe.
 */
export function createWorker<Q extends QueueName>(opts: CreateWorkerOptions<Q>): Worker {
  const missing = jobNamesOf(opts.queue).filter((name) => typeof opts.handlers[name] !== 'function');
  if (missing.length > 0) throw new Error(`queue ${opts.queue} has no handler for: ${missing.join(', ')}`);

  const metrics = jobMetrics(opts.registry);
  const baseLog = opts.log.child({ queue: opts.queue });
  const databaseOutage = new OutageBackoff();

  const worker = new Worker(
    opts.queue,
    // A span per attempt when tracing is on (job-tracing.ts); the processor itself otherwise.
    traceJobs(opts.queue, async (job: Job, token?: string) => {
      const name = job.name as JobName<Q>;
      const handler = opts.handlers[name] as JobHandler<Q, JobName<Q>> | undefined;
      const correlationId = String((job.data as { correlationId?: string } | undefined)?.correlationId ?? job.id);
      const log = baseLog.child({ job: job.name, jobId: job.id, attempt: job.attemptsMade + 1, correlationId });
      const end = metrics.duration.startTimer({ queue: opts.queue, job_name: job.name });
      try {
        if (!handler) throw new UnrecoverableError(encodeError(new PermanentError('unknown_job', `no handler for ${job.name}`)));
        let data: JobData<Q, JobName<Q>>;
        try {
          data = parseJobData(opts.queue, name, job.data);
        } catch (error) {
          throw new UnrecoverableError(encodeError(new PermanentError('invalid_payload', (error as Error).message)));
        }
        const slot = await opts.tenantSlots?.acquire(opts.queue, job.name, (data as { tenantId?: string }).tenantId);
        let result: unknown;
        try {
          result = await handler(data, { job, log, correlationId });
        } finally {
          // A lost release only holds the slot until its lease expires.
          await slot?.release().catch((error: unknown) => log.warn({ err: error }, 'could not release the tenant slot'));
        }
        if (databaseOutage.active) {
          databaseOutage.reset();
          baseLog.info('database reachable again');
        }
        end({ outcome: 'completed' });
        metrics.total.inc({ queue: opts.queue, job_name: job.name, outcome: 'completed' });
        return result;
      } catch (error) {
        if (error instanceof JobDeferral) {
          // One job waits, the queue does not: back to `delayed` (then to
          // its priority's place) without spending an attempt. BullMQ needs
          // the DelayedError to know the job was moved on purpose.
          end({ outcome: 'deferred' });
          metrics.total.inc({ queue: opts.queue, job_name: job.name, outcome: 'deferred' });
          metrics.deferred.inc({ queue: opts.queue, reason: error.reason });
          log.debug({ reason: error.reason, delayMs: error.delayMs }, 'job deferred');
          await job.moveToDelayed(Date.now() + error.delayMs, token);
          throw new DelayedError();
        }
        if (isDatabaseUnavailable(error)) {
          const waitMs = databaseOutage.next();
          end({ outcome: 'rate_limited' });
          metrics.total.inc({ queue: opts.queue, job_name: job.name, outcome: 'rate_limited' });
          metrics.deferred.inc({ queue: opts.queue, reason: 'database-unavailable' });
          log.warn({ err: error, waitMs }, 'database unavailable; rate-limiting the queue');
          await opts.producer.queue(opts.queue).rateLimit(waitMs);
          throw Worker.RateLimitError();
        }
        const waitMs = rateLimitDelay(error);
        if (waitMs !== undefined) {
          // "Come back later" is not a failed attempt: the whole queue waits
          // (BullMQ's manual rate limit) and the job returns to the queue
          // with its attempts intact.
          end({ outcome: 'rate_limited' });
          metrics.total.inc({ queue: opts.queue, job_name: job.name, outcome: 'rate_limited' });
          log.warn({ err: error, waitMs }, 'dependency asked to wait; rate-limiting the queue');
          await opts.producer.queue(opts.queue).rateLimit(waitMs);
          throw Worker.RateLimitError();
        }
        // attemptsMade counts the attempts before this one while the processor runs.
        const outcome = isFinalAttempt(error, job.attemptsMade + 1, job) ? 'failed' : 'retried';
        end({ outcome });
        metrics.total.inc({ queue: opts.queue, job_name: job.name, outcome });
        log.warn({ err: error, outcome }, 'job failed');
        if (error instanceof UnrecoverableError || error instanceof RateLimitError) throw error;
        // What BullMQ keeps as the job's failedReason: the error as data (ErrorData JSON).
        if (isPermanent(error)) throw new UnrecoverableError(encodeError(error));
        const wrapped = new Error(encodeError(error));
        wrapped.stack = (error as Error).stack ?? wrapped.stack;
        throw wrapped;
      }
    }),
    {
      connection: opts.connection,
      prefix: opts.producer.prefix,
      concurrency: opts.concurrency ?? 1,
      lockDuration: opts.lockDurationMs ?? WORKER_LOCK_DEFAULTS.lockDurationMs,
      stalledInterval: opts.stalledIntervalMs ?? WORKER_LOCK_DEFAULTS.stalledIntervalMs,
      maxStalledCount: 2,
      // Per-minute completed/failed counts kept for a day: GET /v1/stats reads them.
      metrics: { maxDataPoints: MetricsTime.ONE_HOUR * 24 },
      // BullMQ honours a manual rate limit (queue.rateLimit, used above) only
      // on workers that have a limiter; this one is too high to ever bind.
      limiter: { max: 1_000_000_000, duration: 1000 },
      settings: {
        // BullMQ asks this strategy only for backoff types it has no built-in
        // for; the one kbflow's producers set is BACKOFF_TYPE.
        backoffStrategy: (attemptsMade: number) => computeBackoff(attemptsMade),
      },
    },
  );

  worker.on('failed', (job, error) => {
    // In the failed event attemptsMade already includes the attempt that failed.
    if (!job || !isFinalAttempt(error, job.attemptsMade, job)) return;
    // Best effort after BullMQ has already moved the job to `failed`: if this
    // process dies in between, the job is still in the failed set and is
    // found there by the dead-letter sweep of the maintenance service.
    void deadLetter(new DeadLetters(opts.producer, opts.connection), opts.queue, job, error)
      .then(() => metrics.deadLettered.inc({ queue: opts.queue, job_name: job.name }))
      .catch((err: unknown) => baseLog.error({ err, jobId: job.id }, 'dead-lettering failed'));
  });
  worker.on('error', (error) => baseLog.error({ err: error }, 'worker error'));
  return worker;
}

function isFinalAttempt(error: unknown, attemptsDone: number, job: Job): boolean {
  if (error instanceof UnrecoverableError || isPermanent(error)) return true;
  return attemptsDone >= (job.opts.attempts ?? DEFAULT_ATTEMPTS);
}

async function deadLetter(deadLetters: DeadLetters, queue: QueueName, job: Job, error: Error): Promise<void> {
  await deadLetters.record({
    queue,
    jobName: job.name,
    jobId: String(job.id),
    data: job.data,
    error: describeErrorData(decodeError(error.message)),
    attemptsMade: job.attemptsMade,
    failedAt: new Date(job.finishedOn ?? Date.now()).toISOString(),
    stacktrace: job.stacktrace ?? [],
  });
}
