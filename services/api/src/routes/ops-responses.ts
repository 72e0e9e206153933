import { z } from 'zod';
import { isoDate } from './responses.ts';

/**
 * Response bodies of the operator endpoints (queues, workers, breakers,
 * dead letters, schedules), for the OpenAPI document; the tenant API's are
 * in responses.ts, whose conventions these follow.
 */

/** A tenant key's own work in flight: unfinished tasks by state, their pages by status. */
const tenantWorkInFlight = z.object({
  scope: z.literal('tenant'),
  tasks: z.record(z.string(), z.number().int()),
  pages: z.record(z.string(), z.number().int()),
});

export const queueCounts = z
  .union([z.object({ scope: z.literal('all'), queues: z.array(z.object({ name: z.string(), counts: z.record(z.string(), z.number()) })) }), tenantWorkInFlight])
  .meta({ id: 'QueueCounts' });

export const workers = z
  .object({
    services: z.record(z.string(), z.number().int()),
    /** Admin key only: hostnames and pids are not a tenant's to see. */
    workers: z
      .optional(
        z.array(
          z.looseObject({
            service: z.string(),
            instanceId: z.string(),
            host: z.string(),
            pid: z.number().int(),
            concurrency: z.record(z.string(), z.number()),
            version: z.string(),
            startedAt: isoDate,
            lastSeenAt: isoDate,
          }),
        ),
      )
      .describe('each replica: admin key only'),
  })
  .meta({ id: 'Workers' });

export const breakers = z
  .object({
    breakers: z.array(
      z.object({
        name: z.string(),
        state: z.enum(['closed', 'open', 'half-open']),
        replicas: z.array(z.looseObject({ service: z.string(), state: z.string() })),
      }),
    ),
  })
  .meta({ id: 'CircuitBreakers' });

export const queueStats = z
  .union([
    z.object({
      scope: z.literal('all'),
      queues: z.array(
        z.looseObject({
          name: z.string(),
          windowMinutes: z.number(),
          throughputPerMinute: z.object({ completed: z.number(), failed: z.number() }),
          errorRate: z.number(),
          latencyMs: z.looseObject({ sample: z.number() }),
          totals: z.object({ completed: z.number(), failed: z.number() }),
        }),
      ),
    }),
    z.object({
      scope: z.literal('tenant'),
      windowSeconds: z.number().int(),
      tasks: z.object({ completed: z.number().int(), failed: z.number().int(), cancelled: z.number().int() }),
      durationMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
    }),
  ])
  .meta({ id: 'QueueStats' });

const deadLetter = z.object({
  id: z.string(),
  queue: z.string().nullable(),
  jobName: z.string().nullable(),
  jobId: z.string().nullable(),
  data: z.unknown(),
  error: z.string().nullable(),
  attempts: z.number().nullable(),
  failedAt: z.string().nullable(),
  deadLetteredAt: isoDate,
  stacktrace: z.array(z.string()),
});

export const deadLetterPage = z
  .object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int(), deadLetters: z.array(deadLetter) })
  .meta({ id: 'DeadLetterPage' });

export const deadLetterReplayed = z
  .object({ id: z.string(), queue: z.string(), jobName: z.string(), jobId: z.string(), priority: z.number().int() })
  .meta({ id: 'DeadLetterReplayed' });

const scheduleRun = z.looseObject({
  jobId: z.string(),
  trigger: z.string(),
  status: z.string(),
  startedAt: isoDate,
  finishedAt: isoDate.nullable(),
  durationMs: z.number().nullable(),
  attempts: z.number().int(),
  error: z.string().nullable(),
});

export const schedules = z
  .object({
    schedules: z.array(
      z.object({
        name: z.string(),
        registered: z.boolean(),
        pattern: z.string().nullable(),
        everyMs: z.number().nullable(),
        tz: z.string().nullable(),
        nextRunAt: isoDate.nullable(),
        lastRun: scheduleRun.nullable(),
        runCount: z.number().int(),
        errorCount: z.number().int(),
        lastDurationMs: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'Schedules' });

export const scheduleTriggered = z
  .object({ name: z.string(), jobId: z.string(), trigger: z.literal('manual'), priority: z.number().int() })
  .meta({ id: 'ScheduleTriggered' });
export const scheduleRuns = z.object({ name: z.string(), runs: z.array(scheduleRun) }).meta({ id: 'ScheduleRuns' });
