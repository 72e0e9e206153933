import type { ScheduleRunRepository, ScheduleTrigger } from '@kbflow/db';
import { describeError } from '@kbflow/errors';
import type { JobContext, JobHandlers } from '@kbflow/queues';
import type { Job } from 'bullmq';

/** The part of the repository the wrapper writes through. */
export type RunRecorder = Pick<ScheduleRunRepository, 'start' | 'finish'>;

/** Results above this size are summarized: a run's row is for people, not for payloads. */
const MAX_RESULT_BYTES = 8 * 1024;

/** The id prefix of runs triggered through `POST /v1/schedules/:name/trigger`. */
const MANUAL_JOB_ID_PREFIX = 'manual-';

/**
 * How a run started. Scheduler iterations carry their scheduler's key; API
 * triggers have a `manual-` id (health-check and compaction payloads have no
 * `trigger` field, so the id is what tells); anything else was enqueued by a
 * service (the aggregator's compaction after a crawl).
 */
export function runTrigger(job: Pick<Job, 'id' | 'repeatJobKey' | 'data'>): ScheduleTrigger {
  if (job.repeatJobKey) return 'schedule';
  if (String(job.id).startsWith(MANUAL_JOB_ID_PREFIX) || (job.data as { trigger?: unknown } | undefined)?.trigger === 'manual') return 'manual';
  return 'event';
}

/** A handler's result as stored: itself when small JSON, a note of its size otherwise; undefined for none. */
export function storableResult(result: unknown): unknown {
  if (result === undefined || result === null) return undefined;
  let text: string;
  try {
    text = JSON.stringify(result);
  } catch {
    return { unserializable: true };
  }
  if (text === undefined) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes <= MAX_RESULT_BYTES ? JSON.parse(text) : { truncated: true, bytes };
}

/**
 * Wraps every maintenance handler so each run leaves a `schedule_runs` row
 * keyed by (job name, job id): `running` when an attempt starts, then
 * `completed` or `failed` with the duration, the error, a small result and
 * the attempt number. A retried or redelivered job updates its own row.
 *
 * Recording is best effort: a run is not failed because PostgreSQL could not
 * take its row (the health check must still report PostgreSQL down).
 */
export function recordRuns(runs: RunRecorder, handlers: JobHandlers<'maintenance'>): JobHandlers<'maintenance'> {
  const wrapped: Record<string, (data: never, ctx: JobContext) => Promise<unknown>> = {};
  for (const [name, handler] of Object.entries(handlers) as [string, (data: never, ctx: JobContext) => Promise<unknown>][]) {
    wrapped[name] = async (data, ctx) => {
      const jobId = String(ctx.job.id);
      const key = { name, jobId };
      await runs
        .start({ ...key, trigger: runTrigger(ctx.job), attempt: ctx.job.attemptsMade + 1 })
        .catch((err: unknown) => ctx.log.warn({ err }, 'could not record the start of a schedule run'));
      const started = performance.now();
      let result: unknown;
      try {
        result = await handler(data, ctx);
      } catch (error) {
        await runs
          .finish({ ...key, status: 'failed', durationMs: performance.now() - started, error: describeError(error) })
          .catch((err: unknown) => ctx.log.warn({ err }, 'could not record a failed schedule run'));
        throw error;
      }
      await runs
        .finish({ ...key, status: 'completed', durationMs: performance.now() - started, result: storableResult(result) })
        .catch((err: unknown) => ctx.log.warn({ err }, 'could not record a completed schedule run'));
      return result;
    };
  }
  return wrapped as unknown as JobHandlers<'maintenance'>;
}
