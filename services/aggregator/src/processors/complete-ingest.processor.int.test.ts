// completeIngest on real PostgreSQL and a real BullMQ queue: the ingest
// task gets its final counts (completed, or failed when nothing could be
// embedded), and a finished ingest that embedded something asks
// maintenance, once however many finish, to compact the vector store.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository, TaskRepository, type Db } from '@kbflow/db';
import { createLogger } from '@kbflow/observability';
import { createRedis, JobProducer, Priority, priorityClass, QueueName, type JobContext, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import type { Job } from 'bullmq';
import { completeIngest } from './complete-ingest.processor.ts';

const log = createLogger('complete-ingest-test', 'silent');
// completeIngest reads the logger and the correlation id from its context.
const ctx = { job: { id: 'complete-ingest-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'ingest-correlation' } satisfies JobContext;

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let tasks: TaskRepository;
let documents: DocumentRepository;
let tenantId: string;
let knowledgeBaseId: string;
let stored = 0;

/** An ingest task that handed `toEmbed` documents to the embedder, of which `indexed` got indexed. */
async function ingestTask(toEmbed: number, indexed: number): Promise<string> {
  const taskId = await tasks.createIngestTask({ tenantId, knowledgeBaseId, source: 'crm' });
  await tasks.recordIngest(taskId, { source: 'crm', received: toEmbed + 1, accepted: toEmbed + 1, unchanged: 1, deleted: 0, invalid: 0, toEmbed });
  for (let i = 0; i < toEmbed; i++) {
    const n = ++stored;
    const { documentId } = await documents.store({
      tenantId,
      knowledgeBaseId,
      url: `record://crm/${n}`,
      title: `Record ${n}`,
      markdown: `Record ${n}`,
      contentHash: `r-${n}`,
      contentType: 'record',
      chunks: [{ position: 0, heading: `Record ${n}`, text: `Record ${n}`, hash: `h-${n}` }],
    });
    await db.document.update({ where: { id: documentId }, data: { taskId, status: i < indexed ? 'indexed' : 'indexing' } });
  }
  return taskId;
}

const compactions = async () =>
  (await producer.queue(QueueName.maintenance).getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name === 'compact-vector-store');

beforeAll(async () => {
  fixture = await createTenantFixture('complete-ingest');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('complete-ingest'));
  tasks = new TaskRepository(db);
  documents = new DocumentRepository(db);
});

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

describe('completeIngest', () => {
  it('an ingest with documents left unindexed completes with them counted failed, and asks for one LOW compaction however many ingests finish', async () => {
    const first = await ingestTask(3, 2);
    const second = await ingestTask(1, 1);

    const result = await completeIngest({ tenantId, taskId: first }, ctx, { tasks, producer });
    expect(result).toEqual({ state: 'completed', result: expect.objectContaining({ toEmbed: 3, embedded: 2, failed: 1, unchanged: 1 }) });
    const row = await db.task.findUniqueOrThrow({ where: { id: first } });
    expect(row).toMatchObject({
      state: 'completed',
      error: '1 of 3 documents could not be embedded',
      result: expect.objectContaining({ embedded: 2, failed: 1 }),
    });
    expect(row.finishedAt).not.toBeNull();
    await completeIngest({ tenantId, taskId: second }, ctx, { tasks, producer });

    const jobs = await compactions();
    expect(jobs).toHaveLength(1);
    expect(priorityClass(jobs[0]!.opts.priority)).toBe(Priority.LOW);
    expect(jobs[0]!.data).toMatchObject({ reason: `ingest ${first} finished`, correlationId: 'ingest-correlation' });
  });

  it('an ingest none of whose documents got indexed fails, and asks for no compaction', async () => {
    await producer.queue(QueueName.maintenance).obliterate({ force: true });
    const taskId = await ingestTask(2, 0);
    expect(await completeIngest({ tenantId, taskId }, ctx, { tasks, producer })).toEqual({
      state: 'failed',
      result: expect.objectContaining({ toEmbed: 2, embedded: 0, failed: 2 }),
    });
    expect(await db.task.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({ state: 'failed', error: '2 of 2 documents could not be embedded' });
    expect(await compactions()).toEqual([]);
  });

  it('a task that is gone (or not an ingest) is reported missing and nothing is enqueued', async () => {
    await producer.queue(QueueName.maintenance).obliterate({ force: true });
    const crawl = await tasks.createCrawlTask({
      tenantId,
      knowledgeBaseId,
      type: 'crawl',
      params: { seeds: ['http://site.test/'], maxPages: 1, maxDepth: 0, engine: 'http', origins: ['http://site.test'] },
    });
    expect(await completeIngest({ tenantId, taskId: '00000000-0000-4000-8000-000000000000' }, ctx, { tasks, producer })).toEqual({ state: 'missing' });
    expect(await completeIngest({ tenantId, taskId: crawl }, ctx, { tasks, producer })).toEqual({ state: 'missing' });
    expect((await db.task.findUniqueOrThrow({ where: { id: crawl } })).state).toBe('queued');
    expect(await compactions()).toEqual([]);
  });
});
