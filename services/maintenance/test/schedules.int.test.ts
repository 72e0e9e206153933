import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, ScheduleRunRepository, type Db } from '@kbflow/db';
import { createRedis, JobProducer, QueueName, SCHEDULE_NAMES, type Redis } from '@kbflow/queues';
import {
  apiClient,
  artifactDir,
  createTestDatabase,
  startService,
  testRedisUrl,
  uniquePrefix,
  type ApiClient,
  type ServiceProcess,
  type TestDatabase,
} from '@kbflow/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Three real maintenance processes share one Redis prefix and one database,
// as replicas do; the real api process lists and triggers their schedules.
// BullMQ's job schedulers are what makes each run happen once: every
// scheduler iteration is one job id, a manual trigger is one job id per
// second, and the schedule_runs table has one row per job id.
const HEALTH_EVERY_MS = 2000;
/** A cron pattern that does not fire while the test runs (midnight, January 1st). */
const FAR = '0 0 1 1 *';
const ADMIN_KEY = 'schedules-admin-key';
const DEV_KEY = 'schedules-dev-key';

let database: TestDatabase;
let db: Db;
let runs: ScheduleRunRepository;
let redis: Redis;
let producer: JobProducer;
let prefix: string;
let lanceDir: string;
let replicas: ServiceProcess[] = [];
let api: ServiceProcess | undefined;
let admin: ApiClient;
let dev: ApiClient;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Completed jobs of one name, summed over every replica's kbflow_jobs_total. */
async function completedAcrossReplicas(jobName: string): Promise<number> {
  let total = 0;
  for (const replica of replicas) {
    const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('kbflow_jobs_total{') && l.includes(`job_name="${jobName}"`) && l.includes('outcome="completed"'));
    total += line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }
  return total;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  runs = new ScheduleRunRepository(db);
  redis = createRedis(testRedisUrl());
  prefix = uniquePrefix('schedules');
  producer = new JobProducer(redis, prefix);
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-schedules-'));
  const shared = { DATABASE_URL: database.url, REDIS_URL: testRedisUrl(), KBFLOW_QUEUE_PREFIX: prefix, KBFLOW_LANCEDB_DIR: lanceDir };
  const logDir = artifactDir('schedules');
  // Started together, so their schedule registrations race as a rollout's do.
  replicas = await Promise.all(
    [1, 2, 3].map((instance) =>
      startService(
        'maintenance',
        {
          ...shared,
          KBFLOW_HEALTH_CHECK_SCHEDULE: String(HEALTH_EVERY_MS),
          KBFLOW_COMPACT_SCHEDULE: FAR,
          KBFLOW_CASE_SYNC_SCHEDULE: FAR,
          KBFLOW_KNOWLEDGE_SCHEDULE: FAR,
          KBFLOW_SWEEP_SCHEDULE: FAR,
        },
        { logDir, instance, timeoutMs: 90_000 },
      ),
    ),
  );
  api = await startService('api', { ...shared, KBFLOW_ADMIN_API_KEY: ADMIN_KEY, KBFLOW_DEV_API_KEY: DEV_KEY }, { logDir, timeoutMs: 90_000 });
  const base = () => `http://127.0.0.1:${api!.port}`;
  admin = apiClient(base, ADMIN_KEY);
  dev = apiClient(base, DEV_KEY);
}, 240_000);

afterAll(async () => {
  await Promise.all([...replicas, ...(api ? [api] : [])].map((s) => s.stop()));
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await redis.del(`${prefix}:maintenance:vector-drift`);
  await producer.close();
  await redis.quit();
  await db.$disconnect();
  await database.drop();
  await rm(lanceDir, { recursive: true, force: true });
}, 60_000);

describe('schedules across three maintenance replicas', () => {
  it('registers the five schedules once each, with their interval or cron pattern', async () => {
    const schedulers = await producer.queue(QueueName.maintenance).getJobSchedulers(0, -1);
    const byName = Object.fromEntries(schedulers.map((s) => [s.key, { every: s.every ? Number(s.every) : null, pattern: s.pattern ?? null }]));
    expect(schedulers).toHaveLength(5);
    expect(byName).toEqual({
      'health-check': { every: HEALTH_EVERY_MS, pattern: null },
      'compact-vector-store': { every: null, pattern: FAR },
      'case-sync': { every: null, pattern: FAR },
      'generate-knowledge': { every: null, pattern: FAR },
      'vectorization-sweep': { every: null, pattern: FAR },
    });
  });

  it('a triggered schedule runs once, also when triggered twice within the same second', async () => {
    expect(await completedAcrossReplicas('vectorization-sweep')).toBe(0);
    let first = await admin.call('POST', '/v1/schedules/vectorization-sweep/trigger');
    let second = await admin.call('POST', '/v1/schedules/vectorization-sweep/trigger');
    // Two calls can straddle a second boundary; then try again (each pair is a double-click).
    for (let i = 0; i < 5 && first.json.jobId !== second.json.jobId; i++) {
      first = await admin.call('POST', '/v1/schedules/vectorization-sweep/trigger');
      second = await admin.call('POST', '/v1/schedules/vectorization-sweep/trigger');
    }
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(first.json).toEqual({
      name: 'vectorization-sweep',
      jobId: expect.stringMatching(/^manual-vectorization-sweep-\d+$/),
      trigger: 'manual',
      priority: 2,
    });
    expect(second.json.jobId).toBe(first.json.jobId);

    const runIds = await until('the triggered runs to complete', async () => {
      const recent = await runs.recent('vectorization-sweep', 20);
      return recent.length > 0 && recent.every((r) => r.status === 'completed') ? recent.map((r) => r.jobId) : undefined;
    });
    const lastPair = await runs.byJobId('vectorization-sweep', first.json.jobId);
    expect(lastPair).toMatchObject({ trigger: 'manual', status: 'completed', attempts: 1 });
    // Every distinct id triggered ran once: as many runs as ids, and as many completed jobs over all replicas.
    await until('the metrics of every run', async () => (await completedAcrossReplicas('vectorization-sweep')) >= runIds.length);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await completedAcrossReplicas('vectorization-sweep')).toBe(runIds.length);
    expect((await runs.recent('vectorization-sweep', 20)).length).toBe(runIds.length);
  }, 120_000);

  it('a retried run updates its own row: one row per job id, the latest attempt and error', async () => {
    const key = { name: 'case-sync', jobId: 'repeat:case-sync:1000' };
    await runs.start({ ...key, trigger: 'schedule', attempt: 1 });
    await runs.finish({ ...key, status: 'failed', durationMs: 12, error: 'db_busy: database busy' });
    const firstStart = (await runs.byJobId(key.name, key.jobId))!.startedAt;
    await runs.start({ ...key, trigger: 'schedule', attempt: 2 });
    expect(await runs.byJobId(key.name, key.jobId)).toMatchObject({
      status: 'running',
      attempts: 2,
      error: 'db_busy: database busy',
      finishedAt: null,
      startedAt: firstStart,
    });
    await runs.finish({ ...key, status: 'failed', durationMs: 15, error: 'db_busy: database still busy' });
    expect(await runs.recent('case-sync', 10)).toEqual([
      expect.objectContaining({ jobId: key.jobId, status: 'failed', attempts: 2, durationMs: 15, error: 'db_busy: database still busy' }),
    ]);
  });

  it('GET /v1/schedules shows each schedule: interval or pattern, next run, last run, run and error counts, last duration', async () => {
    await until('two health checks', async () => (await runs.recent('health-check', 10)).filter((r) => r.status === 'completed').length >= 2);
    const res = await admin.call('GET', '/v1/schedules');
    expect(res.status).toBe(200);
    const byName = Object.fromEntries((res.json.schedules as { name: string }[]).map((s) => [s.name, s as any]));
    expect(Object.keys(byName)).toEqual([...SCHEDULE_NAMES]);

    const health = byName['health-check'];
    expect(health).toMatchObject({ registered: true, everyMs: HEALTH_EVERY_MS, pattern: null, errorCount: 0, lastDurationMs: expect.any(Number) });
    expect(health.runCount).toBeGreaterThanOrEqual(2);
    expect(health.lastRun).toMatchObject({ jobId: expect.stringMatching(/^repeat:health-check:\d+$/), trigger: 'schedule' });
    expect(Math.abs(Date.parse(health.nextRunAt) - Date.now())).toBeLessThan(HEALTH_EVERY_MS + 10_000);

    const sweep = byName['vectorization-sweep'];
    expect(sweep).toMatchObject({ registered: true, everyMs: null, pattern: FAR, errorCount: 0, lastDurationMs: expect.any(Number) });
    expect(Date.parse(sweep.nextRunAt)).toBeGreaterThan(Date.now() + 24 * 3600_000);
    expect(sweep.lastRun).toMatchObject({ trigger: 'manual', status: 'completed', attempts: 1, error: null });
    expect(sweep.runCount).toBe((await runs.recent('vectorization-sweep', 50)).length);

    expect(byName['case-sync']).toMatchObject({
      runCount: 1,
      errorCount: 1,
      lastDurationMs: 15,
      lastRun: { status: 'failed', error: 'db_busy: database still busy' },
    });
    expect(byName['compact-vector-store']).toMatchObject({ registered: true, runCount: 0, errorCount: 0, lastRun: null, lastDurationMs: null });
  }, 90_000);

  it('GET /v1/schedules/:name/runs lists the recent runs, newest first, with results', async () => {
    const res = await admin.call('GET', '/v1/schedules/health-check/runs?limit=2');
    expect(res.status).toBe(200);
    expect(res.json.name).toBe('health-check');
    expect(res.json.runs).toHaveLength(2);
    const [newer, older] = res.json.runs;
    expect(Date.parse(newer.startedAt)).toBeGreaterThanOrEqual(Date.parse(older.startedAt));
    const done =
      res.json.runs.find((r: any) => r.status === 'completed') ??
      (await admin.call('GET', '/v1/schedules/health-check/runs?limit=5')).json.runs.find((r: any) => r.status === 'completed');
    expect(done.result.dependencies).toEqual({
      redis: expect.objectContaining({ ok: true }),
      postgres: expect.objectContaining({ ok: true }),
      'vector-store': expect.objectContaining({ ok: true }),
    });
  });

  it('answers 404 naming an unknown schedule, 400 for a bad limit, and refuses keys that are not the admin key', async () => {
    const unknownTrigger = await admin.call('POST', '/v1/schedules/defrag/trigger');
    expect(unknownTrigger).toEqual({ status: 404, json: { error: { code: 'schedule_not_found', message: expect.stringContaining('"defrag"') } } });
    expect((await admin.call('GET', '/v1/schedules/defrag/runs')).status).toBe(404);
    expect(await admin.call('GET', '/v1/schedules/health-check/runs?limit=0')).toEqual({
      status: 400,
      json: { error: expect.objectContaining({ field: 'limit' }) },
    });
    expect((await admin.call('GET', '/v1/schedules/health-check/runs?page=2')).json.error).toMatchObject({ code: 'unknown_field', field: 'page' });
    expect((await dev.call('GET', '/v1/schedules')).status).toBe(403);
    expect((await dev.call('POST', '/v1/schedules/health-check/trigger')).status).toBe(403);
    expect(await producer.queue(QueueName.maintenance).getJob(`manual-defrag-${Math.floor(Date.now() / 1000)}`)).toBeUndefined();
  });

  it('the health check deletes schedule runs started past the retention (30 days), and only those', async () => {
    const day = 86_400_000;
    await db.scheduleRun.createMany({
      data: [
        { name: 'case-sync', jobId: 'retention-old', trigger: 'schedule', status: 'completed', startedAt: new Date(Date.now() - 31 * day) },
        { name: 'case-sync', jobId: 'retention-kept', trigger: 'schedule', status: 'completed', startedAt: new Date(Date.now() - 29 * day) },
      ],
    });
    await until('the old run deleted', async () => (await db.scheduleRun.count({ where: { jobId: 'retention-old' } })) === 0, 30_000);
    expect(await db.scheduleRun.count({ where: { jobId: 'retention-kept' } })).toBe(1);
  });

  it('each health-check interval runs once across the replicas', async () => {
    await until('five health checks', async () => (await runs.recent('health-check', 100)).filter((r) => r.status === 'completed').length >= 5, 90_000);
    // Stop the schedule, let the last iteration finish, then count.
    const queue = producer.queue(QueueName.maintenance);
    await queue.removeJobScheduler('health-check');
    await until('no health check running', async () => (await queue.getActive()).every((j) => j.name !== 'health-check'));
    await until('every run recorded as finished', async () => (await runs.recent('health-check', 100)).every((r) => r.status !== 'running'));

    const recorded = await runs.recent('health-check', 100);
    expect(recorded.every((r) => r.status === 'completed' && r.attempts === 1 && r.trigger === 'schedule')).toBe(true);
    const iterations = recorded.map((r) => Number(/^repeat:health-check:(\d+)$/.exec(r.jobId)?.[1])).sort((a, b) => a - b);
    expect(iterations.every(Number.isFinite)).toBe(true);
    // One scheduler for all replicas: iterations on one grid, HEALTH_EVERY_MS apart (a replica with its own would interleave).
    const gaps = iterations.slice(1).map((t, i) => t - iterations[i]!);
    expect(gaps.filter((gap) => gap <= 0 || gap % HEALTH_EVERY_MS !== 0)).toEqual([]);
    // And each iteration ran on exactly one replica.
    await until('the metrics of every run', async () => (await completedAcrossReplicas('health-check')) >= recorded.length);
    expect(await completedAcrossReplicas('health-check')).toBe(recorded.length);
  }, 150_000);
});
