import type { ScheduleRunRepository, ScheduleRunView, TenantRepository } from '@kbflow/db';
import { Priority, QueueName, SCHEDULE_NAMES, type JobInput, type JobProducer, type ScheduleName } from '@kbflow/queues';
import type { JobSchedulerJson } from 'bullmq';
import { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError, parseBody } from '../http/api-error.ts';
import { authenticate } from '../http/auth.ts';

export interface ScheduleRouteDeps {
  tenants: TenantRepository;
  producer: JobProducer;
  runs: ScheduleRunRepository;
  log: Logger;
}

/** The payload of a triggered run, per job (health-check and compaction have no `trigger` field). */
const MANUAL_DATA: { [N in ScheduleName]: JobInput<'maintenance', N> } = {
  'health-check': {},
  'compact-vector-store': { reason: 'manual' },
  'case-sync': { trigger: 'manual' },
  'generate-knowledge': { trigger: 'manual' },
  'vectorization-sweep': { trigger: 'manual' },
};

const runsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/**
 * The id of a triggered run: the schedule and the current second. A
 * double-click (or a client's retry) within the same second adds the same id,
 * which BullMQ ignores, so it runs once; a trigger in a later second is a new
 * run. The maintenance worker records runs of `manual-` ids as manual.
 */
export function manualJobId(name: ScheduleName, nowMs: number): string {
  return `manual-${name}-${Math.floor(nowMs / 1000)}`;
}

function scheduleName(name: string): ScheduleName {
  if ((SCHEDULE_NAMES as readonly string[]).includes(name)) return name as ScheduleName;
  throw new ApiError(404, 'schedule_not_found', `no schedule named ${JSON.stringify(name)}; schedules: ${SCHEDULE_NAMES.join(', ')}`);
}

function runView(run: ScheduleRunView) {
  return {
    jobId: run.jobId,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: run.durationMs,
    attempts: run.attempts,
    error: run.error,
  };
}

/** How a scheduler repeats and when it runs next, as BullMQ keeps it. */
function timing(scheduler: JobSchedulerJson | undefined) {
  return {
    registered: scheduler !== undefined,
    pattern: scheduler?.pattern ?? null,
    // Redis hands numbers back as strings.
    everyMs: scheduler?.every !== undefined && scheduler.every !== null ? Number(scheduler.every) : null,
    tz: scheduler?.tz ?? null,
    nextRunAt: scheduler?.next ? new Date(Number(scheduler.next)).toISOString() : null,
  };
}

/**
 * The maintenance schedules (admin key: they are operator controls, and their
 * runs cover every tenant). List them with their timing and history, trigger
 * one now, or read its recent runs. The runs are global rows of
 * `schedule_runs`, written by the maintenance worker.
 */
export function scheduleRoutes(deps: ScheduleRouteDeps): Router {
  const router = Router();
  const queue = deps.producer.queue(QueueName.maintenance);
  router.use('/schedules', authenticate(deps.tenants, { admin: true }));

  router.get('/schedules', async (_req, res) => {
    const [schedulers, summaries] = await Promise.all([queue.getJobSchedulers(0, -1), deps.runs.summaries(SCHEDULE_NAMES)]);
    const byName = new Map(schedulers.map((s) => [s.key, s]));
    res.json({
      schedules: summaries.map((summary) => ({
        name: summary.name,
        ...timing(byName.get(summary.name)),
        lastRun: summary.lastRun ? runView(summary.lastRun) : null,
        runCount: summary.runs,
        errorCount: summary.errors,
        lastDurationMs: summary.lastDurationMs,
      })),
    });
  });

  router.post('/schedules/:name/trigger', async (req, res) => {
    const name = scheduleName(req.params.name);
    const jobId = manualJobId(name, Date.now());
    await deps.producer.enqueue(QueueName.maintenance, name, MANUAL_DATA[name] as never, { priority: Priority.HIGH, jobId });
    deps.log.info({ schedule: name, jobId, apiKeyId: req.principal?.apiKeyId }, 'schedule triggered');
    res.status(202).json({ name, jobId, trigger: 'manual', priority: Priority.HIGH });
  });

  router.get('/schedules/:name/runs', async (req, res) => {
    const name = scheduleName(req.params.name);
    const q = parseBody(runsQuery, req.query);
    const runs = await deps.runs.recent(name, q.limit);
    res.json({ name, runs: runs.map((run) => ({ ...runView(run), result: run.result ?? null })) });
  });

  return router;
}
