import type { RecordRepository, ScheduleRunRepository, SearchLogRepository } from '@kbflow/db';
import { ALL_QUEUES, type DeadLetters, type DeadLetterRetention, type DeadLetterSweepReport, type JobContext, type JobProducer } from '@kbflow/queues';
import type { Counter, Gauge } from 'prom-client';
import type { ReapedTask } from '../task-reaper.ts';

export interface HealthCheckDeps {
  checks: { name: string; check: () => Promise<unknown> }[];
  producer: JobProducer;
  /** kbflow_dependency_up{dependency}: 1 when the last check passed. */
  gauge: Gauge<'dependency'>;
  /** Search-log retention (KBFLOW_SEARCH_LOG_RETENTION_DAYS): rows older than `days` are deleted on every run. */
  searchLogRetention?: { searchLogs: SearchLogRepository; days: number };
  /** Schedule-run retention (KBFLOW_SCHEDULE_RUN_RETENTION_DAYS): runs started more than `days` ago are deleted on every run. */
  scheduleRunRetention?: { scheduleRuns: ScheduleRunRepository; days: number };
  /** Record-sync retention (packages/db/src/record-sync.ts): open syncs idle 24 h expire, finished and expired ones go after 7 days. */
  recordSyncRetention?: { records: RecordRepository };
  /** The dead-letter sweep (dead-letters.ts): recovery, indexing and retention, and its metrics. */
  deadLetterSweep?: {
    deadLetters: DeadLetters;
    retention: DeadLetterRetention;
    metrics: { count: Gauge<'queue'>; oldestAge: Gauge; removed: Counter<'reason'> };
  };
  /** The task reaper (task-reaper.ts): finishes or fails tasks whose flow can no longer end them. */
  reapTasks?: () => Promise<ReapedTask[]>;
}

export interface HealthReport {
  dependencies: Record<string, { ok: boolean; ms: number; error?: string }>;
  queues: Record<string, Record<string, number>>;
  /** Search-log rows deleted by retention this run. */
  searchLogsDeleted?: number;
  /** Schedule-run rows deleted by retention this run. */
  scheduleRunsDeleted?: number;
  /** Record syncs expired (idle) and removed (old tombstones) this run. */
  recordSyncs?: { expired: number; removed: number };
  deadLetters?: DeadLetterSweepReport;
  /** Tasks the reaper re-drove or failed this run. */
  tasksReaped?: ReapedTask[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The scheduled health check: probes every dependency, records the result as
 * a gauge, and snapshots queue counts so a backlog shows in the job history.
 * It also applies the retention of the search log and of the schedule runs
 * (one DELETE each) and of record syncs (abandoned ones expire), sweeps the dead letters and reaps tasks that can no
 * longer progress: each too small for a schedule of its own, and the health
 * check already runs every 15 minutes.
 */
export async function healthCheck(ctx: JobContext, deps: HealthCheckDeps): Promise<HealthReport> {
  const dependencies: HealthReport['dependencies'] = {};
  for (const { name, check } of deps.checks) {
    const started = performance.now();
    try {
      await check();
      dependencies[name] = { ok: true, ms: Math.round(performance.now() - started) };
      deps.gauge.set({ dependency: name }, 1);
    } catch (error) {
      dependencies[name] = { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message };
      deps.gauge.set({ dependency: name }, 0);
    }
  }
  const queues: HealthReport['queues'] = {};
  for (const name of ALL_QUEUES) {
    queues[name] = await deps.producer.queue(name).getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed');
  }
  const failing = Object.entries(dependencies)
    .filter(([, d]) => !d.ok)
    .map(([n]) => n);
  if (failing.length > 0) ctx.log.warn({ failing }, 'health check found failing dependencies');
  else ctx.log.info('health check passed');
  const report: HealthReport = { dependencies, queues };
  if (deps.searchLogRetention) {
    const { searchLogs, days } = deps.searchLogRetention;
    report.searchLogsDeleted = await searchLogs.deleteOlderThan(new Date(Date.now() - days * DAY_MS));
    if (report.searchLogsDeleted > 0) ctx.log.info({ searchLogsDeleted: report.searchLogsDeleted, days }, 'search logs past retention deleted');
  }
  if (deps.scheduleRunRetention) {
    const { scheduleRuns, days } = deps.scheduleRunRetention;
    report.scheduleRunsDeleted = await scheduleRuns.deleteStartedBefore(new Date(Date.now() - days * DAY_MS));
    if (report.scheduleRunsDeleted > 0) ctx.log.info({ scheduleRunsDeleted: report.scheduleRunsDeleted, days }, 'schedule runs past retention deleted');
  }
  if (deps.recordSyncRetention) {
    report.recordSyncs = await deps.recordSyncRetention.records.expireSyncs();
    if (report.recordSyncs.expired + report.recordSyncs.removed > 0) ctx.log.info(report.recordSyncs, 'record syncs past retention expired or removed');
  }
  if (deps.deadLetterSweep) {
    const { deadLetters, retention, metrics } = deps.deadLetterSweep;
    const swept = await deadLetters.sweep(retention);
    for (const [queue, n] of Object.entries(swept.counts)) metrics.count.set({ queue }, n);
    metrics.oldestAge.set(swept.oldestAgeSeconds);
    metrics.removed.inc({ reason: 'age' }, swept.expired);
    metrics.removed.inc({ reason: 'count' }, swept.trimmed);
    if (swept.recovered + swept.indexed + swept.expired + swept.trimmed > 0) {
      ctx.log.info({ recovered: swept.recovered, indexed: swept.indexed, expired: swept.expired, trimmed: swept.trimmed }, 'dead letters swept');
    }
    report.deadLetters = swept;
  }
  if (deps.reapTasks) report.tasksReaped = await deps.reapTasks();
  return report;
}
