import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedis, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import { artifactDir, createTestDatabase, startService, testRedisUrl, uniquePrefix, type ServiceProcess, type TestDatabase } from '@kbflow/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The maintenance process owns its schedules through BullMQ job schedulers:
// started as a real process, it registers them and runs the health check.
let database: TestDatabase;
let redis: Redis;
let producer: JobProducer;
let service: ServiceProcess;
let lanceDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  redis = createRedis(testRedisUrl());
  const prefix = uniquePrefix('maint');
  producer = new JobProducer(redis, prefix);
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-maint-'));
  service = await startService(
    'maintenance',
    {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      KBFLOW_QUEUE_PREFIX: prefix,
      KBFLOW_LANCEDB_DIR: lanceDir,
      KBFLOW_HEALTH_CHECK_EVERY_MS: '1500',
    },
    { logDir: artifactDir('maintenance') },
  );
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await producer.queue(QueueName.maintenance).obliterate({ force: true });
  await producer.close();
  await redis.quit();
  await database.drop();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('maintenance schedules', () => {
  it('registers the health check and compaction as job schedulers', async () => {
    const schedulers = await producer.queue(QueueName.maintenance).getJobSchedulers();
    const byName = Object.fromEntries(schedulers.map((s) => [s.key, s]));
    expect(Object.keys(byName).sort()).toEqual(['compact-vector-store', 'health-check']);
    expect(Number(byName['health-check']!.every)).toBe(1500);
  });

  it('runs the health check on its schedule and records every dependency as up', async () => {
    const queue = producer.queue(QueueName.maintenance);
    const deadline = Date.now() + 20_000;
    let completed: Awaited<ReturnType<typeof queue.getCompleted>> = [];
    while (Date.now() < deadline) {
      completed = (await queue.getCompleted()).filter((j) => j.name === 'health-check');
      if (completed.length >= 2) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(completed.length).toBeGreaterThanOrEqual(2);
    const report = completed[0]!.returnvalue as { dependencies: Record<string, { ok: boolean }> };
    expect(report.dependencies).toEqual({
      redis: expect.objectContaining({ ok: true }),
      postgres: expect.objectContaining({ ok: true }),
      'vector-store': expect.objectContaining({ ok: true }),
    });
    const metrics = await (await fetch(`http://127.0.0.1:${service.port}/metrics`)).text();
    const sample = (name: string, labels: string[]) =>
      metrics.split('\n').find((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)));
    expect(sample('kbflow_dependency_up', ['dependency="postgres"', 'service="maintenance"'])).toMatch(/ 1$/);
    expect(sample('kbflow_jobs_total', ['job_name="health-check"', 'outcome="completed"'])).toMatch(/ [1-9]\d*$/);
  }, 30_000);
});
