import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deletePrefixKeys, testRedisUrl, uniquePrefix } from '@kbflow/testing';
import { Worker, type Job } from 'bullmq';
import { createRedis, DeadLetters, JobProducer, Priority, QueueName, queueOptions, type Redis } from '../src/index.ts';

// The dead-letter index, retention and sweep against a real Redis and real
// BullMQ queues (issue 14, item 9).
let redis: Redis;
let prefix: string;
let producer: JobProducer;
let deadLetters: DeadLetters;

const DAY = 24 * 3600 * 1000;
const TENANT = '00000000-0000-4000-8000-000000000001';
const TASK = '00000000-0000-4000-8000-0000000000aa';
const scrapeData = (n: number) => ({ tenantId: TENANT, taskId: TASK, url: `http://example.com/${n}`, depth: 0, engine: 'http' as const });
const record = (jobId: string, failedAt: Date, queue = 'scrape') => ({
  queue,
  jobName: queue === 'scrape' ? 'scrape-page' : 'embed-texts',
  jobId,
  data: queue === 'scrape' ? scrapeData(1) : { tenantId: TENANT, texts: ['t'] },
  error: 'fetch_failed: boom',
  attemptsMade: 3,
  failedAt: failedAt.toISOString(),
  stacktrace: [],
});
const retention = { maxAgeMs: 30 * DAY, maxCount: 1000 };

beforeAll(() => {
  redis = createRedis(testRedisUrl());
});

async function fresh(): Promise<void> {
  if (prefix) {
    await producer.close();
    await deletePrefixKeys(redis, prefix);
  }
  prefix = uniquePrefix('dead-letters');
  producer = new JobProducer(redis, prefix);
  deadLetters = new DeadLetters(producer, redis);
}

afterAll(async () => {
  await producer?.close();
  if (prefix) await deletePrefixKeys(redis, prefix);
  await redis.quit();
});

const ids = (jobs: Job[]) => jobs.map((j) => String(j.id));

describe('dead letters', () => {
  it('pages one origin queue from its index, newest first, with its total', async () => {
    await fresh();
    const now = Date.now();
    for (let i = 0; i < 5; i++) await deadLetters.record(record(`s${i}`, new Date(now - (5 - i) * 1000)));
    await deadLetters.record(record('e0', new Date(now), 'embed'));
    const page = await deadLetters.page(QueueName.scrape, 1, 2);
    expect(page.total).toBe(5);
    expect(ids(page.jobs)).toEqual(['scrape-s3', 'scrape-s2']);
    expect((await deadLetters.page(QueueName.embed, 0, 10)).total).toBe(1);
    // Writing the same failed job twice keeps one entry.
    await deadLetters.record(record('s0', new Date(now)));
    expect((await deadLetters.page(QueueName.scrape, 0, 10)).total).toBe(5);
  });

  it('the sweep writes the dead letter of a failed job whose worker died before writing it, once', async () => {
    await fresh();
    // A plain BullMQ worker (not createWorker) fails the job for good and
    // writes nothing: as createWorker does when killed between the two writes.
    const job = await producer.enqueue(QueueName.scrape, 'scrape-page', scrapeData(7), { priority: Priority.NORMAL, attempts: 1 });
    const connection = redis.duplicate();
    const worker = new Worker(QueueName.scrape, async () => Promise.reject(new Error('killed mid-way')), { connection, ...queueOptions(prefix) });
    await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
    await worker.close();
    await connection.quit();

    const first = await deadLetters.sweep(retention);
    expect(first).toMatchObject({ recovered: 1, expired: 0, trimmed: 0 });
    expect(first.counts.scrape).toBe(1);
    const [letter] = (await deadLetters.page(QueueName.scrape, 0, 10)).jobs;
    expect(letter!.data).toMatchObject({ queue: 'scrape', jobName: 'scrape-page', jobId: String(job.id), error: 'killed mid-way', attemptsMade: 1 });
    expect((await deadLetters.sweep(retention)).recovered).toBe(0);

    // Replayed or deleted: the failed job is still in its queue's failed set, and stays handled.
    await deadLetters.remove(letter!);
    const after = await deadLetters.sweep(retention);
    expect(after).toMatchObject({ recovered: 0, counts: expect.objectContaining({ scrape: 0 }) });
    expect(await producer.queue(QueueName.deadLetter).getJob(letter!.id!)).toBeUndefined();
  });

  it('indexes dead letters written before the index existed', async () => {
    await fresh();
    await producer.enqueue(QueueName.deadLetter, 'dead-letter', record('old-1', new Date(Date.now() - DAY)), { priority: Priority.LOW, jobId: 'scrape-old-1' });
    expect((await deadLetters.page(QueueName.scrape, 0, 10)).total).toBe(0);
    const swept = await deadLetters.sweep(retention);
    expect(swept.indexed).toBe(1);
    expect(ids((await deadLetters.page(QueueName.scrape, 0, 10)).jobs)).toEqual(['scrape-old-1']);
    expect(swept.oldestAgeSeconds).toBeGreaterThanOrEqual(DAY / 1000 - 60);
  });

  it('deletes dead letters past the age limit, then the oldest beyond the count limit', async () => {
    await fresh();
    const now = Date.now();
    await deadLetters.record(record('ancient', new Date(now - 40 * DAY)));
    for (let i = 0; i < 5; i++) await deadLetters.record(record(`r${i}`, new Date(now - (10 - i) * DAY)));
    const swept = await deadLetters.sweep({ maxAgeMs: 30 * DAY, maxCount: 3 }, now);
    expect(swept).toMatchObject({ expired: 1, trimmed: 2, counts: expect.objectContaining({ scrape: 3 }) });
    expect(ids((await deadLetters.page(QueueName.scrape, 0, 10)).jobs)).toEqual(['scrape-r4', 'scrape-r3', 'scrape-r2']);
    expect(await producer.queue(QueueName.deadLetter).getJob('scrape-ancient')).toBeUndefined();
    expect(await producer.queue(QueueName.deadLetter).getJob('scrape-r0')).toBeUndefined();
    expect(Math.round(swept.oldestAgeSeconds / (DAY / 1000))).toBe(8);
  });
});
