import type { ScheduleRunRepository, ScheduleRunView } from '@kbflow/db';
import { Priority, QueueName, SCHEDULE_NAMES, type JobInput, type JobProducer, type ScheduleName } from '@kbflow/queues';
import type { JobSchedulerJson } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { scheduleRuns, schedules, scheduleTriggered } from './ops-responses.ts';

export interface ScheduleRouteDeps {
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
function manualJobId(name: ScheduleName, nowMs: number): string {
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
export function scheduleRoutes(deps: ScheduleRouteDeps): ApiRoutes {
  const router = new ApiRoutes();
  const queue = deps.producer.queue(QueueName.maintenance);
  const nameParam = z.object({ name: z.enum(SCHEDULE_NAMES).describe('the schedule') });

  router.get(
    '/schedules',
    {
      operationId: 'listSchedules',
      summary: 'The maintenance schedules with their timing and history (admin)',
      tags: ['operations'],
      access: 'admin',
      responses: { 200: { description: 'every schedule', schema: schedules } },
      example: {},
    },
    async (_req, res) => {
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
    },
  );

  router.post(
    '/schedules/:name/trigger',
    {
      operationId: 'triggerSchedule',
      summary: 'Run a schedule now (admin)',
      tags: ['operations'],
      access: 'admin',
      params: nameParam,
      responses: { 202: { description: 'the run was queued', schema: scheduleTriggered } },
      errors: { 404: ['schedule_not_found'] },
      example: { params: { name: 'health-check' } },
    },
    async (req, res) => {
      const name = scheduleName(String(req.params.name));
      const jobId = manualJobId(name, Date.now());
      await deps.producer.enqueue(QueueName.maintenance, name, MANUAL_DATA[name] as never, { priority: Priority.HIGH, jobId });
      deps.log.info({ schedule: name, jobId, apiKeyId: req.principal?.apiKeyId }, 'schedule triggered');
      res.status(202).json({ name, jobId, trigger: 'manual', priority: Priority.HIGH });
    },
  );

  router.get(
    '/schedules/:name/runs',
    {
      operationId: 'listScheduleRuns',
      summary: "A schedule's recent runs (admin)",
      tags: ['operations'],
      access: 'admin',
      params: nameParam,
      query: runsQuery,
      responses: { 200: { description: 'the runs, newest first', schema: scheduleRuns } },
      errors: { 404: ['schedule_not_found'] },
      example: { params: { name: 'health-check' }, query: { limit: '5' } },
    },
    async (req, res, input) => {
      const name = scheduleName(String(req.params.name));
      const q = input.query();
      const runs = await deps.runs.recent(name, q.limit);
      res.json({ name, runs: runs.map((run) => ({ ...runView(run), result: run.result ?? null })) });
    },
  );

  return router;
}
