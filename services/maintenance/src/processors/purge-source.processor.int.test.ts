// purgeSource on real PostgreSQL and BullMQ: the documents the source's
// runs reached go with their chunks, their vectors are queued for removal
// as delete-vectors jobs, and the purge task completes with the counts; a
// redelivery finds nothing left. A purge that fails on its job's last
// attempt settles its task failed; an earlier attempt leaves it running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository, SourceRepository, TaskRepository, type Db, type SourceSettings } from '@kbflow/db';
import { createLogger } from '@kbflow/observability';
import { createRedis, JobProducer, Priority, priorityClass, QueueName, type JobContext, type JobData, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import { purgeSource, type PurgeSourceDeps } from './purge-source.processor.ts';

const log = createLogger('purge-source-test', 'silent');
const SETTINGS: SourceSettings = {
  url: 'http://purge.site.test/',
  schedule: { every: '1d' },
  includePaths: [],
  excludePaths: [],
  maxPages: 10,
  maxDepth: 1,
  engine: 'http',
  respectRobots: true,
  sitemaps: 'off',
  politeness: null,
  deleteUnreached: false,
  webhook: null,
};

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let tasks: TaskRepository;
let sources: SourceRepository;
let documents: DocumentRepository;
let deps: PurgeSourceDeps;
let tenantId: string;
let knowledgeBaseId: string;
let pages = 0;

/** A stored page with `chunks` chunks, reached by `taskId` when given (as a crawl records it in task_pages). */
async function page(chunks: number, taskId?: string): Promise<{ documentId: string; chunkIds: string[] }> {
  const n = ++pages;
  const url = `http://purge.site.test/${n}.html`;
  const stored = await documents.store({
    tenantId,
    knowledgeBaseId,
    url,
    title: `Page ${n}`,
    markdown: `Page ${n}`,
    contentHash: `p-${n}`,
    contentType: 'page',
    chunks: Array.from({ length: chunks }, (_, p) => ({ position: p, heading: `Page ${n}`, text: `Page ${n} part ${p}`, hash: `h-${n}-${p}` })),
  });
  if (taskId) await db.taskPage.create({ data: { taskId, tenantId, url, depth: 0, status: 'embedded', documentId: stored.documentId } });
  return { documentId: stored.documentId, chunkIds: stored.chunkIds };
}

/** A source with one finished run that reached `n` pages, and its purge: the job data and the real job (its attempts decide the last one). */
async function purgeOf(pagesReached: number[], attempts: number) {
  const source = await sources.create({ tenantId, knowledgeBaseId, settings: { ...SETTINGS, url: `http://purge.site.test/s${++pages}/` } });
  const run = await sources.startRun(source, 'manual');
  if (!run.started) throw new Error('run not started');
  const reached = [];
  for (const n of pagesReached) reached.push(await page(n, run.taskId));
  await tasks.settle(run.taskId, 'completed', null);
  const taskId = await tasks.createPurgeTask({ tenantId, knowledgeBaseId, sourceId: source.id, url: source.url });
  const data: JobData<'maintenance', 'purge-source'> = { tenantId, sourceId: source.id, taskId, correlationId: `purge-${taskId}` };
  const job = await producer.enqueue(QueueName.maintenance, 'purge-source', data, { priority: Priority.NORMAL, attempts });
  const ctx: JobContext = { job, log, correlationId: `purge-${taskId}` };
  return { data, ctx, reached, taskId };
}

const deleteJobs = async () =>
  (await producer.queue(QueueName.embed).getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name === 'delete-vectors');

beforeAll(async () => {
  fixture = await createTenantFixture('purge-source');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('purge-source'));
  tasks = new TaskRepository(db);
  sources = new SourceRepository(db, tasks);
  documents = new DocumentRepository(db);
  deps = { sources, tasks, producer };
});

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

describe('purgeSource', () => {
  it("deletes the documents and chunks the source's runs reached, queues their vectors' removal, and completes the task with the counts", async () => {
    const purge = await purgeOf([2, 3], 3);
    const unrelated = await page(1);

    expect(await purgeSource(purge.data, purge.ctx, deps)).toEqual({ documents: 2, chunks: 5 });

    const ids = purge.reached.map((r) => r.documentId);
    expect(await db.document.count({ where: { id: { in: ids } } })).toBe(0);
    expect(await db.chunk.count({ where: { documentId: { in: ids } } })).toBe(0);
    expect(await db.document.count({ where: { id: unrelated.documentId } })).toBe(1);
    const [job, ...more] = await deleteJobs();
    expect(more).toEqual([]);
    expect(job!.data).toMatchObject({ tenantId, correlationId: purge.ctx.correlationId });
    expect([...job!.data.documentIds].sort()).toEqual([...ids].sort());
    expect([...job!.data.chunkIds].sort()).toEqual(purge.reached.flatMap((r) => r.chunkIds).sort());
    expect(priorityClass(job!.opts.priority)).toBe(Priority.NORMAL);
    expect(await db.task.findUniqueOrThrow({ where: { id: purge.taskId } })).toMatchObject({ state: 'completed', result: { documents: 2, chunks: 5 } });
  });

  it('a redelivered purge finds nothing left: no document, no job', async () => {
    const purge = await purgeOf([1], 3);
    await purgeSource(purge.data, purge.ctx, deps);
    const jobs = (await deleteJobs()).length;
    expect(await purgeSource(purge.data, purge.ctx, deps)).toEqual({ documents: 0, chunks: 0 });
    expect(await deleteJobs()).toHaveLength(jobs);
  });

  it("a purge that fails on its job's last attempt settles the task failed with the error; on an earlier attempt leaves it to the retry", async () => {
    const closed = createRedis(testRedisUrl());
    await closed.quit();
    const offline = { ...deps, producer: new JobProducer(closed, producer.prefix) };

    const early = await purgeOf([1], 3);
    await expect(purgeSource(early.data, early.ctx, offline)).rejects.toThrow(/closed/i);
    expect((await db.task.findUniqueOrThrow({ where: { id: early.taskId } })).state).toBe('running');

    const last = await purgeOf([1], 1);
    await expect(purgeSource(last.data, last.ctx, offline)).rejects.toThrow(/closed/i);
    expect(await db.task.findUniqueOrThrow({ where: { id: last.taskId } })).toMatchObject({ state: 'failed', error: expect.stringMatching(/closed/i) });
  });
});
