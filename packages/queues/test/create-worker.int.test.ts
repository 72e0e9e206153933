import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { testRedisUrl, uniquePrefix } from '@kbflow/testing';
import type { Job, Worker } from 'bullmq';
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

function setup(handlers: Parameters<typeof someHandlers<'embed'>>[1], concurrency = 1) {
  const prefix = uniquePrefix('worker');
  const producer = new JobProducer(redis, prefix);
  const metrics = createMetrics('worker-test');
  const worker: Worker = createWorker({
    queue: QueueName.embed,
    handlers: someHandlers(QueueName.embed, handlers),
    connection: redis,
    producer,
    log: createLogger('worker-test', 'silent'),
    registry: metrics.registry,
    concurrency,
  });
  const completed: string[] = [];
  worker.on('completed', (job: Job) => completed.push(String(job.id)));
  cleanups.push(async () => {
    await worker.close();
    await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
    await producer.close();
  });
  return { producer, worker, metrics, completed };
}

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
