import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { testRedisUrl, uniquePrefix } from '@kbflow/testing';
import net from 'node:net';
import { Writable } from 'node:stream';
import { createDb } from '@kbflow/db';
import type { Job, Worker } from 'bullmq';
import { pino } from 'pino';
import { AppError, decodeError, PermanentError } from '@kbflow/errors';
import { createRedis, createWorker, JobDeferral, JobProducer, Priority, QueueName, someHandlers, type Redis } from '../src/index.ts';

// createWorker against a real Redis, one fresh queue prefix per test (as
// bullmq's own tests do).
let redis: Redis;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  redis = createRedis(testRedisUrl());
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

afterAll(async () => {
  await redis.quit();
});

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

function setup(handlers: Parameters<typeof someHandlers<'embed'>>[1], opts: { concurrency?: number; log?: ReturnType<typeof createLogger> } = {}) {
  const prefix = uniquePrefix('worker');
  const producer = new JobProducer(redis, prefix);
  const metrics = createMetrics('worker-test');
  const worker: Worker = createWorker({
    queue: QueueName.embed,
    handlers: someHandlers(QueueName.embed, handlers),
    connection: redis,
    producer,
    log: opts.log ?? createLogger('worker-test', 'silent'),
    registry: metrics.registry,
    concurrency: opts.concurrency ?? 1,
  });
  const completed: string[] = [];
  const failed: string[] = [];
  worker.on('completed', (job: Job) => completed.push(String(job.id)));
  worker.on('failed', (job) => job && failed.push(`${job.id}@${job.attemptsMade}`));
  cleanups.push(async () => {
    await worker.close();
    await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
    await producer.close();
  });
  return { producer, worker, metrics, completed, failed };
}

/** The counter's value for the given labels (0 when never incremented). */
async function counter(registry: ReturnType<typeof createMetrics>['registry'], name: string, labels: Record<string, string>): Promise<number> {
  const values = (await registry.getSingleMetric(name)!.get()).values;
  return values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

const texts = (t: string) => ({ tenantId: 't', texts: [t] });
const NORMAL = { priority: Priority.NORMAL } as const;

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('createWorker: deferral', () => {
  it('when a handler defers a job, it waits in delayed with its attempts intact while the queue keeps running other jobs', async () => {
    const seen = new Map<string, number>();
    const { producer, metrics, completed } = setup({
      'embed-texts': async (data, ctx) => {
        const id = String(ctx.job.id);
        const n = (seen.get(id) ?? 0) + 1;
        seen.set(id, n);
        if (data.texts[0] === 'polite' && n === 1) throw new JobDeferral('host-backoff', 400);
        return { n };
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', { tenantId: 't', texts: ['polite'] }, { priority: Priority.NORMAL, jobId: 'a' });
    await producer.enqueue(QueueName.embed, 'embed-texts', { tenantId: 't', texts: ['other'] }, { priority: Priority.NORMAL, jobId: 'b' });

    // b completes while a waits: the deferral held one job, not the queue.
    await until(() => completed.includes('b'), 5000);
    const queue = producer.queue(QueueName.embed);
    expect(completed).not.toContain('a');
    expect(await queue.getJobState('a')).toBe('delayed');

    await until(() => completed.includes('a'), 5000);
    const a = await queue.getJob('a');
    // attemptsMade counts finished attempts: the completed one, not the deferral.
    expect(a?.attemptsMade).toBe(1);
    expect(a?.returnvalue).toEqual({ n: 2 });
    expect(seen.get('a')).toBe(2);
    const deferred = await metrics.registry.getSingleMetric('kbflow_jobs_deferred_total')!.get();
    expect(deferred.values).toEqual([expect.objectContaining({ labels: { queue: 'embed', reason: 'host-backoff' }, value: 1 })]);
  });

  it('when a job is deferred more often than it has attempts, it still completes and never reaches the dead-letter queue', async () => {
    let calls = 0;
    const { producer, completed } = setup({
      'embed-texts': async () => {
        calls++;
        if (calls <= 5) throw new JobDeferral('tenant-limit', 20);
        return { calls };
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', { tenantId: 't', texts: ['x'] }, { priority: Priority.NORMAL, jobId: 'c', attempts: 2 });
    await until(() => completed.includes('c'), 10_000);
    expect(calls).toBe(6);
    expect(await producer.queue(QueueName.deadLetter).count()).toBe(0);
  });
});

describe('createWorker: start-up', () => {
  it('refuses to build a worker that lacks a handler for a job of its queue, naming it', () => {
    expect(() =>
      createWorker({
        queue: QueueName.embed,
        handlers: { 'embed-texts': async () => ({}) } as never,
        connection: redis,
        producer: new JobProducer(redis, uniquePrefix('worker')),
        log: createLogger('worker-test', 'silent'),
        registry: createMetrics('worker-test').registry,
      }),
    ).toThrow(/queue embed has no handler for: embed-chunks, embed-documents, delete-vectors/);
  });
});

describe('createWorker: payload validation', () => {
  it('a payload the catalog rejects fails once, without retries, and is dead-lettered with the reason', async () => {
    let called = 0;
    const { producer, failed } = setup({ 'embed-texts': async () => ++called });
    // Past the typed producer, as a foreign or older producer would write it.
    await producer.queue(QueueName.embed).add('embed-texts', { tenantId: 't', texts: [] }, { jobId: 'bad', priority: Priority.NORMAL, attempts: 3 });
    await until(async () => (await producer.queue(QueueName.deadLetter).count()) === 1, 5000);
    expect(called).toBe(0);
    expect(failed).toEqual(['bad@1']);
    const [letter] = await producer.queue(QueueName.deadLetter).getJobs(['waiting', 'prioritized']);
    expect(letter?.data).toMatchObject({
      queue: 'embed',
      jobName: 'embed-texts',
      jobId: 'bad',
      attemptsMade: 1,
      error: expect.stringMatching(/^invalid_payload: /),
    });
  });
});

describe('createWorker: permanent errors', () => {
  it('a PermanentError spends one attempt, crosses the queue as data (code, message) and is dead-lettered', async () => {
    let called = 0;
    const { producer, failed } = setup({
      'embed-texts': async () => {
        called++;
        throw new PermanentError('http_status', 'https://x.test/ answered 404');
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', texts('a'), { ...NORMAL, jobId: 'p', attempts: 3 });
    await until(async () => (await producer.queue(QueueName.deadLetter).count()) === 1, 5000);
    expect([called, failed]).toEqual([1, ['p@1']]);
    const job = await producer.queue(QueueName.embed).getJob('p');
    expect(decodeError(job?.failedReason)).toEqual({ code: 'http_status', message: 'https://x.test/ answered 404', retryable: false });
    const [letter] = await producer.queue(QueueName.deadLetter).getJobs(['waiting', 'prioritized']);
    expect((letter?.data as { error: string }).error).toBe('http_status: https://x.test/ answered 404');
  });
});

describe('createWorker: retry and backoff', () => {
  it('a retryable error is tried again after the capped exponential backoff, and succeeding in time is not a dead letter', async () => {
    const seen: number[] = [];
    const { producer, completed } = setup({
      'embed-texts': async (_data, ctx) => {
        seen.push(Date.now());
        if (ctx.job.attemptsMade < 1) throw new AppError('fetch_failed', 'connection reset');
        return 'ok';
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', texts('a'), { ...NORMAL, jobId: 'r' });
    await until(() => completed.includes('r'), 10_000);
    const job = await producer.queue(QueueName.embed).getJob('r');
    expect([seen.length, job?.attemptsMade, job?.returnvalue]).toEqual([2, 2, 'ok']);
    // 2^1 s with at most 25 % jitter either way: the schedule BullMQ applied, not a timing claim.
    expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(1500);
    expect(await producer.queue(QueueName.deadLetter).count()).toBe(0);
  }, 20_000);

  it('a job that fails its last attempt is dead-lettered once, with its origin, data, error and attempts', async () => {
    const { producer, failed, metrics } = setup({
      'embed-texts': async () => {
        throw new AppError('provider_error', 'provider answered 500');
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', texts('doomed'), { ...NORMAL, jobId: 'd', attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    await until(async () => (await producer.queue(QueueName.deadLetter).count()) === 1, 10_000);
    expect(failed).toEqual(['d@1', 'd@2']);
    const [letter] = await producer.queue(QueueName.deadLetter).getJobs(['waiting', 'prioritized']);
    expect(letter?.id).toBe('embed-d');
    expect(letter?.data).toMatchObject({
      queue: 'embed',
      jobName: 'embed-texts',
      jobId: 'd',
      data: texts('doomed'),
      error: 'provider_error: provider answered 500',
      attemptsMade: 2,
    });
    expect(await counter(metrics.registry, 'kbflow_jobs_total', { outcome: 'retried' })).toBe(1);
    expect(await counter(metrics.registry, 'kbflow_jobs_total', { outcome: 'failed' })).toBe(1);
    await until(async () => (await counter(metrics.registry, 'kbflow_dead_letters_total', { queue: 'embed' })) === 1, 5000);
  }, 20_000);
});

describe('createWorker: rate-limit errors keep their attempt', () => {
  it('an error with retryAfterMs rate-limits the queue and the job comes back with its attempts intact', async () => {
    let calls = 0;
    const { producer, completed, metrics } = setup({
      'embed-texts': async () => {
        calls++;
        if (calls === 1) throw new AppError('rate_limited', 'provider answered 429', { retryAfterMs: 300 });
        return calls;
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', texts('a'), { ...NORMAL, jobId: 'l', attempts: 1 });
    await until(() => completed.includes('l'), 10_000);
    const job = await producer.queue(QueueName.embed).getJob('l');
    // One attempt allowed, two calls made: the 429 did not spend it.
    expect([calls, job?.returnvalue]).toEqual([2, 2]);
    expect(await counter(metrics.registry, 'kbflow_jobs_total', { outcome: 'rate_limited' })).toBe(1);
  });
});

describe('createWorker: a database outage keeps every attempt', () => {
  it('a job whose database is unreachable rate-limits its queue, keeps its attempt, and completes once the database answers', async () => {
    // A real Prisma client pointed at a port nobody listens on: the error the services get while PostgreSQL is down.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = createDb(`postgresql://postgres@127.0.0.1:${port}/none`);
    cleanups.push(() => down.$disconnect());
    let calls = 0;
    const { producer, completed, failed, metrics } = setup({
      'embed-texts': async () => {
        calls++;
        if (calls <= 2) await down.task.count();
        return calls;
      },
    });
    await producer.enqueue(QueueName.embed, 'embed-texts', texts('a'), { ...NORMAL, jobId: 'db', attempts: 1 });
    await until(() => completed.includes('db'), 20_000);
    const job = await producer.queue(QueueName.embed).getJob('db');
    // One attempt allowed, three calls made: the two outages spent none of it.
    expect([calls, job?.returnvalue, job?.attemptsMade, failed]).toEqual([3, 3, 1, []]);
    expect(await counter(metrics.registry, 'kbflow_jobs_deferred_total', { reason: 'database-unavailable' })).toBe(2);
    expect(await counter(metrics.registry, 'kbflow_dead_letters_total', {})).toBe(0);
  }, 30_000);
});

describe('createWorker: metrics and the per-job logger', () => {
  it('counts outcomes and durations by queue and job, and logs with queue, job, jobId, attempt and correlationId', async () => {
    const { log, lines } = capturingLogger();
    const { producer, completed, metrics } = setup(
      {
        'embed-texts': async (_data, ctx) => {
          ctx.log.info({ step: 'inside' }, 'handler ran');
          return 'ok';
        },
      },
      { log },
    );
    await producer.enqueue(QueueName.embed, 'embed-texts', { ...texts('a'), correlationId: 'corr-1' }, { ...NORMAL, jobId: 'm' });
    await until(() => completed.includes('m'), 5000);
    expect(lines.find((l) => l.msg === 'handler ran')).toMatchObject({
      queue: 'embed',
      job: 'embed-texts',
      jobId: 'm',
      attempt: 1,
      correlationId: 'corr-1',
      step: 'inside',
    });
    expect(await counter(metrics.registry, 'kbflow_jobs_total', { queue: 'embed', job_name: 'embed-texts', outcome: 'completed' })).toBe(1);
    const durations = (await metrics.registry.getSingleMetric('kbflow_job_duration_seconds')!.get()).values;
    expect(
      durations.find((v) => (v as { metricName?: string }).metricName === 'kbflow_job_duration_seconds_count' && v.labels.outcome === 'completed')?.value,
    ).toBe(1);
  });
});
