// runSource and registerSourceSchedules on real PostgreSQL and BullMQ: a
// firing starts a run (a crawl task linked to the source) and queues its
// crawl flow; a firing while a run is in progress is skipped; a firing for
// a source that is gone removes its scheduler; a flow that cannot be queued
// leaves no run behind. Schedulers are restored from the sources table.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SourceRepository, TaskRepository, type Db, type SourceSettings } from '@kbflow/db';
import { createLogger } from '@kbflow/observability';
import { createRedis, crawlJobId, JobProducer, QueueName, sourceSchedulerKey, type JobContext, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import type { Job } from 'bullmq';
import { registerSourceSchedules, runSource, type RunSourceDeps } from './run-source.processor.ts';

const log = createLogger('run-source-test', 'silent');
// runSource reads only the logger from its context.
const ctx = { job: { id: 'run-source-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'run-source-test' } satisfies JobContext;
const SETTINGS: SourceSettings = {
  url: 'http://docs.site.test/guide/',
  schedule: { every: '6h' },
  includePaths: [],
  excludePaths: [],
  maxPages: 50,
  maxDepth: 2,
  engine: 'http',
  respectRobots: true,
  sitemaps: 'auto',
  politeness: null,
  deleteUnreached: true,
  webhook: null,
};

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let deps: RunSourceDeps;
let sources: SourceRepository;
let tenantId: string;
let knowledgeBaseId: string;

const createSource = (settings: Partial<SourceSettings> = {}) => sources.create({ tenantId, knowledgeBaseId, settings: { ...SETTINGS, ...settings } });
const schedulerIds = async () => (await producer.queue(QueueName.maintenance).getJobSchedulers()).map((s) => s.key).sort();

beforeAll(async () => {
  fixture = await createTenantFixture('run-source');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('run-source'));
  const tasks = new TaskRepository(db);
  sources = new SourceRepository(db, tasks);
  deps = { sources, tasks, producer };
});

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

describe('runSource', () => {
  it("starts a run linked to the source and queues its crawl flow: complete-crawl over a scrape of the source's URL", async () => {
    const source = await createSource();
    const result = await runSource({ tenantId, sourceId: source.id }, ctx, deps);

    expect(result).toEqual({ outcome: 'started', taskId: expect.any(String) });
    const taskId = (result as { taskId: string }).taskId;
    const task = await db.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(task).toMatchObject({ sourceId: source.id, type: 'crawl', tenantId, knowledgeBaseId });
    expect(task.params).toMatchObject({ seeds: [SETTINGS.url], trigger: 'schedule', maxPages: 50, deleteUnreached: true });
    const parent = await producer.queue(QueueName.aggregate).getJob(crawlJobId(taskId));
    expect(parent?.name).toBe('complete-crawl');
    expect(await parent?.getState()).toBe('waiting-children');
    expect(parent?.data).toMatchObject({ tenantId, taskId, deleteUnreached: true });
    const [child, ...more] = await producer.queue(QueueName.scrape).getJobs(['waiting', 'prioritized']);
    expect(more).toEqual([]);
    expect(child?.data).toMatchObject({ tenantId, taskId, url: SETTINGS.url, depth: 0, engine: 'http' });
  });

  it('a firing while a run is in progress is skipped, naming the run, and starts nothing', async () => {
    const source = await createSource({ url: 'http://busy.site.test/' });
    const first = (await runSource({ tenantId, sourceId: source.id }, ctx, deps)) as { taskId: string };
    const scrapes = await producer.queue(QueueName.scrape).count();

    expect(await runSource({ tenantId, sourceId: source.id }, ctx, deps)).toEqual({
      outcome: 'skipped',
      reason: 'run-in-progress',
      activeTaskId: first.taskId,
    });
    expect(await db.task.count({ where: { sourceId: source.id } })).toBe(1);
    expect(await producer.queue(QueueName.scrape).count()).toBe(scrapes);
  });

  it("a firing for a source that is gone is skipped and removes its scheduler; one under another tenant's id starts nothing and leaves the owner's scheduler", async () => {
    const gone = await createSource({ url: 'http://gone.site.test/' });
    const foreign = await createSource({ url: 'http://foreign.site.test/' });
    await registerSourceSchedules(deps);
    expect(await schedulerIds()).toContain(sourceSchedulerKey(gone.id));
    await db.source.delete({ where: { id: gone.id } });

    expect(await runSource({ tenantId, sourceId: gone.id }, ctx, deps)).toEqual({ outcome: 'skipped', reason: 'source-gone' });
    expect(await schedulerIds()).not.toContain(sourceSchedulerKey(gone.id));
    expect(await runSource({ tenantId: '00000000-0000-4000-8000-000000000000', sourceId: foreign.id }, ctx, deps)).toEqual({
      outcome: 'skipped',
      reason: 'source-gone',
    });
    expect(await schedulerIds()).toContain(sourceSchedulerKey(foreign.id));
    expect(await db.task.count({ where: { sourceId: { in: [gone.id, foreign.id] } } })).toBe(0);
  });

  it("registerSourceSchedules restores every source's scheduler from the table, once however often it runs", async () => {
    await producer.queue(QueueName.maintenance).obliterate({ force: true });
    const count = await db.source.count();
    expect(await registerSourceSchedules(deps)).toBe(count);
    expect(await registerSourceSchedules(deps)).toBe(count);
    const ids = (await db.source.findMany({ select: { id: true } })).map((s) => sourceSchedulerKey(s.id)).sort();
    expect(await schedulerIds()).toEqual(ids);
  });

  it('when the flow cannot be queued (Redis gone), the run is deleted so it does not block the next firing, and the error is thrown', async () => {
    const source = await createSource({ url: 'http://no-redis.site.test/' });
    const closed = createRedis(testRedisUrl());
    await closed.quit();
    const offline = new JobProducer(closed, producer.prefix);

    await expect(runSource({ tenantId, sourceId: source.id }, ctx, { ...deps, producer: offline })).rejects.toThrow(/closed/i);
    expect(await db.task.count({ where: { sourceId: source.id } })).toBe(0);
    expect(await runSource({ tenantId, sourceId: source.id }, ctx, deps)).toMatchObject({ outcome: 'started' });
  });
});
