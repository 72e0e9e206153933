import type { Db } from './client.ts';
import type { Prisma } from './generated/client.ts';

/** How a run was started: by its job scheduler, through the API, or enqueued by another service. */
export type ScheduleTrigger = 'schedule' | 'manual' | 'event';
export type ScheduleRunStatus = 'running' | 'completed' | 'failed';

/** One run of a maintenance job, keyed by (name, job id). */
export interface ScheduleRunView {
  name: string;
  jobId: string;
  trigger: string;
  status: ScheduleRunStatus;
  /** When the first attempt started. */
  startedAt: Date;
  finishedAt: Date | null;
  /** Duration of the latest attempt. */
  durationMs: number | null;
  /** The latest attempt's error; cleared when a later attempt completes. */
  error: string | null;
  result: unknown;
  attempts: number;
}

/** What the schedules page shows per schedule. */
export interface ScheduleRunSummary {
  name: string;
  runs: number;
  errors: number;
  lastRun: ScheduleRunView | null;
  /** Duration of the latest run that finished (completed or failed). */
  lastDurationMs: number | null;
}

/**
 * The history of maintenance runs (`schedule_runs`). Rows are global, not
 * per tenant: a run of the case sync or the sweep covers every tenant, and
 * the table is operational data read through admin endpoints.
 */
export class ScheduleRunRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Records that an attempt started. A redelivered or retried job updates
   * its row (status back to running, attempts) and keeps the first start
   * time and the previous error until it finishes. One atomic statement, so
   * two deliveries racing on one job id still leave one row.
   */
  async start(run: { name: string; jobId: string; trigger: ScheduleTrigger; attempt: number }): Promise<void> {
    await this.db.$executeRaw`
      INSERT INTO "schedule_runs" ("name", "job_id", "trigger", "status", "attempts")
      VALUES (${run.name}, ${run.jobId}, ${run.trigger}, 'running', ${run.attempt})
      ON CONFLICT ("name", "job_id") DO UPDATE SET
        "status" = 'running', "attempts" = GREATEST("schedule_runs"."attempts", EXCLUDED."attempts"),
        "finished_at" = NULL, "duration_ms" = NULL`;
  }

  /** Records how an attempt ended; `error` is kept only for a failed one. */
  async finish(run: { name: string; jobId: string; status: 'completed' | 'failed'; durationMs: number; error?: string; result?: unknown }): Promise<void> {
    await this.db.scheduleRun.updateMany({
      where: { name: run.name, jobId: run.jobId },
      data: {
        status: run.status,
        finishedAt: new Date(),
        durationMs: Math.round(run.durationMs),
        error: run.status === 'failed' ? (run.error ?? 'failed') : null,
        ...(run.result === undefined ? {} : { result: run.result as Prisma.InputJsonValue }),
      },
    });
  }

  /** Deletes the runs started before `cutoff` (retention); returns how many. */
  async deleteStartedBefore(cutoff: Date): Promise<number> {
    const { count } = await this.db.scheduleRun.deleteMany({ where: { startedAt: { lt: cutoff } } });
    return count;
  }

  /** Run count, error count, last run and last duration of each name (zeros for a name never run). */
  async summaries(names: readonly string[]): Promise<ScheduleRunSummary[]> {
    const counts = await this.db.scheduleRun.groupBy({ by: ['name', 'status'], where: { name: { in: [...names] } }, _count: { _all: true } });
    return Promise.all(
      names.map(async (name) => {
        // Both lookups walk the (name, started_at) index backwards.
        const [last, lastFinished] = await Promise.all([
          this.db.scheduleRun.findFirst({ where: { name }, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }] }),
          this.db.scheduleRun.findFirst({ where: { name, status: { in: ['completed', 'failed'] } }, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }] }),
        ]);
        const mine = counts.filter((c) => c.name === name);
        return {
          name,
          runs: mine.reduce((sum, c) => sum + c._count._all, 0),
          errors: mine.filter((c) => c.status === 'failed').reduce((sum, c) => sum + c._count._all, 0),
          lastRun: last ? view(last) : null,
          lastDurationMs: lastFinished?.durationMs ?? null,
        };
      }),
    );
  }

  /** The latest runs of one name, newest first. */
  async recent(name: string, limit: number): Promise<ScheduleRunView[]> {
    const rows = await this.db.scheduleRun.findMany({ where: { name }, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }], take: limit });
    return rows.map(view);
  }

  /** The run of one job id, if it started. */
  async byJobId(name: string, jobId: string): Promise<ScheduleRunView | undefined> {
    const row = await this.db.scheduleRun.findUnique({ where: { name_jobId: { name, jobId } } });
    return row ? view(row) : undefined;
  }
}

type Row = NonNullable<Awaited<ReturnType<Db['scheduleRun']['findFirst']>>>;

function view(row: Row): ScheduleRunView {
  return {
    name: row.name,
    jobId: row.jobId,
    trigger: row.trigger,
    status: row.status as ScheduleRunStatus,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    durationMs: row.durationMs,
    error: row.error,
    result: row.result,
    attempts: row.attempts,
  };
}
