import type { Db } from '@kbflow/db';
import { scheduleIntervalMs, type SourceScheduleInput } from '@kbflow/queues';
import { Gauge, type Registry } from 'prom-client';

/**
 * Sources exported per scrape at most, the most overdue first: one series
 * set per source (about ten series), so the cardinality stays bounded
 * however many sources the tenants register. The count of overdue sources
 * always covers all of them.
 */
const MAX_SOURCES_EXPORTED = 1000;

/** One scrape's reading is reused this long (Prometheus and a dashboard may scrape at once). */
const CACHE_MS = 5000;

interface SourceRow {
  id: string;
  schedule: SourceScheduleInput;
  created_at: Date;
  last_success: Date | null;
  last_report: { new?: number; changed?: number; unchanged?: number; notModified?: number; deleted?: number; failed?: number } | null;
}

export interface SourceFreshness {
  id: string;
  /** The last successful (completed) run's end, or the source's creation while it has none. */
  lastSuccessSeconds: number;
  intervalSeconds: number;
  lastRun?: { new: number; changed: number; unchanged: number; deleted: number; failed: number; notModifiedRatio: number };
}

/**
 * Reads every source's freshness: when it last ran successfully, its
 * interval, and what its last finished run changed. Overdue means no
 * successful run for more than twice the interval (the alert's rule).
 */
export async function readSourceFreshness(db: Db, now = Date.now()): Promise<{ sources: SourceFreshness[]; overdue: number }> {
  const rows = await db.$queryRaw<SourceRow[]>`
    SELECT s.id, s.schedule, s.created_at,
      (SELECT max(t.finished_at) FROM tasks t WHERE t.source_id = s.id AND t.type = 'crawl' AND t.state = 'completed') AS last_success,
      (SELECT t.result FROM tasks t WHERE t.source_id = s.id AND t.type = 'crawl' AND t.finished_at IS NOT NULL ORDER BY t.finished_at DESC LIMIT 1) AS last_report
    FROM sources s`;
  const sources: SourceFreshness[] = [];
  for (const row of rows) {
    const interval = scheduleIntervalMs(row.schedule, new Date(now));
    if (interval === undefined) continue;
    const r = row.last_report;
    const fetched = (r?.new ?? 0) + (r?.changed ?? 0) + (r?.unchanged ?? 0);
    sources.push({
      id: row.id,
      lastSuccessSeconds: (row.last_success ?? row.created_at).getTime() / 1000,
      intervalSeconds: interval / 1000,
      ...(r
        ? {
            lastRun: {
              new: r.new ?? 0,
              changed: r.changed ?? 0,
              unchanged: r.unchanged ?? 0,
              deleted: r.deleted ?? 0,
              failed: r.failed ?? 0,
              notModifiedRatio: fetched > 0 ? (r.notModified ?? 0) / fetched : 0,
            },
          }
        : {}),
    });
  }
  const ageOverInterval = (s: SourceFreshness) => (now / 1000 - s.lastSuccessSeconds) / s.intervalSeconds;
  sources.sort((a, b) => ageOverInterval(b) - ageOverInterval(a) || a.id.localeCompare(b.id));
  return { sources, overdue: sources.filter((s) => ageOverInterval(s) > 2).length };
}

/**
 * The freshness series of issue 11 (item 8), read from PostgreSQL when
 * Prometheus scrapes the maintenance service (so every replica reports the
 * same values; the dashboard and the alert take the max):
 *
 * - `kbflow_source_last_success_timestamp_seconds{source}`,
 *   `kbflow_source_interval_seconds{source}`: seconds since the last
 *   successful run is `time() - ...`, overdue by twice the interval is
 *   `time() - last > 2 * interval` (the KbflowSourceOverdue alert);
 * - `kbflow_source_last_run_pages{source,change}`: new, changed, unchanged,
 *   deleted and failed pages of the last finished run;
 * - `kbflow_source_last_run_not_modified_ratio{source}`: its 304 share;
 * - `kbflow_sources_overdue`: how many sources are overdue.
 */
export function registerSourceMetrics(registry: Registry, db: Db): void {
  let cached: { at: number; value: Promise<{ sources: SourceFreshness[]; overdue: number }> } | undefined;
  const read = () => {
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      const value = readSourceFreshness(db);
      cached = { at: Date.now(), value };
      // A failed read is not kept: the next scrape tries again.
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
  const exported = async () => (await read()).sources.slice(0, MAX_SOURCES_EXPORTED);

  new Gauge({
    name: 'kbflow_source_last_success_timestamp_seconds',
    help: "When each source's last successful run finished (its creation while it has none).",
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await exported()) this.set({ source: s.id }, s.lastSuccessSeconds);
    },
  });
  new Gauge({
    name: 'kbflow_source_interval_seconds',
    help: "Each source's schedule interval (for a cron pattern, the gap to its next firing after that).",
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await exported()) this.set({ source: s.id }, s.intervalSeconds);
    },
  });
  new Gauge({
    name: 'kbflow_source_last_run_pages',
    help: "Pages of each source's last finished run, by what the run found (new, changed, unchanged, deleted, failed).",
    labelNames: ['source', 'change'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await exported()) {
        if (!s.lastRun) continue;
        for (const change of ['new', 'changed', 'unchanged', 'deleted', 'failed'] as const) this.set({ source: s.id, change }, s.lastRun[change]);
      }
    },
  });
  new Gauge({
    name: 'kbflow_source_last_run_not_modified_ratio',
    help: "Share of the fetched pages of each source's last finished run that answered 304.",
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await exported()) if (s.lastRun) this.set({ source: s.id }, s.lastRun.notModifiedRatio);
    },
  });
  new Gauge({
    name: 'kbflow_sources_overdue',
    help: 'Sources without a successful run for more than twice their interval.',
    registers: [registry],
    async collect() {
      this.set((await read()).overdue);
    },
  });
}
