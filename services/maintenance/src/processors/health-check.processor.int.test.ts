// healthCheck on real Redis (BullMQ queues, dead letters) and PostgreSQL,
// with real prom-client metrics: each dependency's probe lands in the report
// and its gauge, the queues' counts are snapshotted, the search-log and
// schedule-run retention delete only what is past it, and the dead-letter
// sweep's outcome reaches the report and its metrics.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RecordRepository, ScheduleRunRepository, SearchLogRepository, type Db, type SearchLogEntry } from '@kbflow/db';
import { createLogger } from '@kbflow/observability';
import { ALL_QUEUES, createRedis, DeadLetters, JobProducer, Priority, QueueName, type JobContext, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import type { Job } from 'bullmq';
import { Counter, Gauge, Registry } from 'prom-client';
import { healthCheck, type HealthCheckDeps } from './health-check.processor.ts';

const DAY_MS = 86_400_000;
const log = createLogger('health-check-test', 'silent');
// healthCheck reads only the logger from its context.
const ctx = { job: { id: 'health-check-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'health-check-test' } satisfies JobContext;

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let registry: Registry;
let gauge: Gauge<'dependency'>;
let tenantId: string;
let knowledgeBaseId: string;

/** A metric's values by their label values ('' without labels). */
const gaugeValues = async (metric: Gauge<string> | Counter<string>) =>
  Object.fromEntries((await metric.get()).values.map((v) => [Object.values(v.labels).join(',') || '', v.value]));

beforeAll(async () => {
  fixture = await createTenantFixture('health-check');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('health-check'));
  registry = new Registry();
  gauge = new Gauge({ name: 'kbflow_dependency_up', help: 'test', labelNames: ['dependency'], registers: [registry] });
});

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

describe('healthCheck', () => {
  it("reports each dependency's probe (a failing one with its error), sets its gauge, and snapshots every queue's counts", async () => {
    await producer.enqueue(QueueName.embed, 'delete-vectors', { tenantId, chunkIds: [], documentIds: [knowledgeBaseId] }, { priority: Priority.LOW });
    const deps: HealthCheckDeps = {
      checks: [
        { name: 'redis', check: () => redis.ping() },
        { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
        { name: 'vector-store', check: () => db.$queryRaw`SELECT 1 FROM no_such_table` },
      ],
      producer,
      gauge,
    };

    const report = await healthCheck(ctx, deps);

    expect(report.dependencies.redis).toMatchObject({ ok: true });
    expect(report.dependencies.postgres).toMatchObject({ ok: true });
    expect(report.dependencies['vector-store']).toMatchObject({ ok: false, error: expect.stringContaining('no_such_table') });
    expect(await gaugeValues(gauge)).toEqual({ redis: 1, postgres: 1, 'vector-store': 0 });
    expect(Object.keys(report.queues).sort()).toEqual([...ALL_QUEUES].sort());
    expect(report.queues.embed).toMatchObject({ prioritized: 1, waiting: 0, active: 0, failed: 0 });
    expect(report.queues.scrape).toMatchObject({ prioritized: 0, waiting: 0 });
    // Only what was asked for runs.
    expect(report).not.toHaveProperty('searchLogsDeleted');
    expect(report).not.toHaveProperty('deadLetters');
  });

  it('deletes the search logs and schedule runs past their retention, and keeps the rest', async () => {
    const entry: SearchLogEntry = {
      tenantId,
      knowledgeBaseId,
      kind: 'search',
      query: 'q',
      mode: 'hybrid',
      filters: {},
      latencyMs: 1,
      hits: 0,
      topScore: null,
      degraded: null,
    };
    const searchLogs = new SearchLogRepository(db);
    await searchLogs.insertMany([
      { ...entry, query: 'old', createdAt: new Date(Date.now() - 40 * DAY_MS) },
      { ...entry, query: 'recent', createdAt: new Date(Date.now() - 20 * DAY_MS) },
    ]);
    const scheduleRuns = new ScheduleRunRepository(db);
    await scheduleRuns.start({ name: 'case-sync', jobId: 'old-run', trigger: 'schedule', attempt: 1 });
    await scheduleRuns.start({ name: 'case-sync', jobId: 'recent-run', trigger: 'schedule', attempt: 1 });
    await db.scheduleRun.updateMany({ where: { jobId: 'old-run' }, data: { startedAt: new Date(Date.now() - 15 * DAY_MS) } });

    const report = await healthCheck(ctx, {
      checks: [],
      producer,
      gauge,
      searchLogRetention: { searchLogs, days: 30 },
      scheduleRunRetention: { scheduleRuns, days: 14 },
    });

    expect(report).toMatchObject({ searchLogsDeleted: 1, scheduleRunsDeleted: 1 });
    expect((await db.searchLog.findMany({ select: { query: true } })).map((r) => r.query)).toEqual(['recent']);
    expect((await db.scheduleRun.findMany({ select: { jobId: true } })).map((r) => r.jobId)).toEqual(['recent-run']);
  });

  it('expires record syncs idle for a day (dropping their URLs) and removes week-old finished ones, leaving an active sync alone', async () => {
    const sync = (id: string, state: string, ageMs: number) =>
      db.$executeRaw`INSERT INTO record_syncs (tenant_id, id, knowledge_base_id, source, state, batches, updated_at)
        VALUES (${tenantId}::uuid, ${id}, ${knowledgeBaseId}::uuid, 'feed', ${state}, 1, ${new Date(Date.now() - ageMs)})`;
    await sync('active', 'open', 60_000);
    await sync('abandoned', 'open', 25 * 3600_000);
    await sync('old-finished', 'finished', 8 * DAY_MS);
    await db.$executeRaw`INSERT INTO record_sync_urls (tenant_id, sync_id, url) VALUES (${tenantId}::uuid, 'abandoned', 'https://a/1'), (${tenantId}::uuid, 'active', 'https://a/2')`;

    const report = await healthCheck(ctx, { checks: [], producer, gauge, recordSyncRetention: { records: new RecordRepository(db) } });

    expect(report.recordSyncs).toEqual({ expired: 1, removed: 1 });
    const rows = await db.$queryRaw<{ id: string; state: string }[]>`SELECT id, state FROM record_syncs WHERE tenant_id = ${tenantId}::uuid ORDER BY id`;
    expect(rows).toEqual([
      { id: 'abandoned', state: 'expired' },
      { id: 'active', state: 'open' },
    ]);
    const urls = await db.$queryRaw<{ sync_id: string }[]>`SELECT sync_id FROM record_sync_urls WHERE tenant_id = ${tenantId}::uuid`;
    expect(urls).toEqual([{ sync_id: 'active' }]);
  });

  it('sweeps the dead letters: one past retention is removed, the counts of the kept ones reach the report and the metrics', async () => {
    const deadLetters = new DeadLetters(producer, redis);
    const letter = (jobId: string, ageMs: number) => ({
      queue: 'scrape',
      jobName: 'scrape-page',
      jobId,
      data: {},
      error: 'fetch_failed: boom',
      attemptsMade: 3,
      failedAt: new Date(Date.now() - ageMs).toISOString(),
      stacktrace: [],
    });
    await deadLetters.record(letter('kept-1', 60_000));
    await deadLetters.record(letter('expired-1', 10 * DAY_MS));
    const metrics = {
      count: new Gauge({ name: 'dl_kept', help: 'test', labelNames: ['queue'], registers: [registry] }),
      oldestAge: new Gauge({ name: 'dl_oldest', help: 'test', registers: [registry] }),
      removed: new Counter({ name: 'dl_removed', help: 'test', labelNames: ['reason'], registers: [registry] }),
    };

    const report = await healthCheck(ctx, {
      checks: [],
      producer,
      gauge,
      deadLetterSweep: { deadLetters, retention: { maxAgeMs: 7 * DAY_MS, maxCount: 100 }, metrics },
    });

    expect(report.deadLetters).toMatchObject({ expired: 1, trimmed: 0, counts: { scrape: 1 } });
    expect(report.deadLetters!.oldestAgeSeconds).toBeGreaterThanOrEqual(60);
    expect((await gaugeValues(metrics.count)).scrape).toBe(1);
    expect((await gaugeValues(metrics.oldestAge))['']).toBe(report.deadLetters!.oldestAgeSeconds);
    expect(await gaugeValues(metrics.removed)).toMatchObject({ age: 1, count: 0 });
    expect((await deadLetters.page(QueueName.scrape, 0, 10)).jobs.map((j) => j.data.jobId)).toEqual(['kept-1']);
  });
});
