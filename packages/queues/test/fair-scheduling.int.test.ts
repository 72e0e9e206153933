// Fair scheduling across tenants (issue 12 item 3) against a real Redis and
// BullMQ: the order in which one worker takes the jobs of a tenant with a
// big backlog and of a tenant that comes after it, through the producer
// every kbflow service uses.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { testRedisUrl, uniquePrefix } from '@kbflow/testing';
import type { Worker } from 'bullmq';
import {
  crawlFlow,
  createRedis,
  createWorker,
  fairPriority,
  JobProducer,
  Priority,
  priorityClass,
  QueueName,
  someHandlers,
  type PriorityValue,
  type Redis,
} from '../src/index.ts';

let redis: Redis;
let producer: JobProducer;
let prefix: string;
let worker: Worker | undefined;
/** Lets a held job finish (set by a test that holds one), so closing the worker cannot hang. */
let releaseHeld: () => void = () => undefined;

beforeAll(() => {
  redis = createRedis(testRedisUrl());
});

afterAll(async () => {
  await redis.quit();
});

afterEach(async () => {
  releaseHeld();
  await worker?.close();
  worker = undefined;
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  const keys = await redis.keys(`${prefix}:fair:*`);
  if (keys.length) await redis.del(...keys);
  await producer.close();
});

function fresh(label: string): void {
  prefix = uniquePrefix(label);
  producer = new JobProducer(redis, prefix);
}

async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const page = (tenantId: string, i: number, priority: PriorityValue = Priority.NORMAL) => ({
  data: { tenantId, taskId: `task-${tenantId.slice(0, 8)}`, url: `http://site.test/${tenantId.slice(0, 8)}/${i}`, depth: 1 },
  opts: { priority, jobId: `${tenantId.slice(0, 8)}-${i}-${priority}` },
});

/** One worker taking scrape jobs one at a time, recording whose each was; `gate` holds a job until it resolves. */
function recordingWorker(order: string[], gate?: () => Promise<void>): Worker {
  return createWorker({
    queue: QueueName.scrape,
    handlers: someHandlers(QueueName.scrape, {
      'scrape-page': async (data, ctx) => {
        order.push(`${data.tenantId}|${String(ctx.job.id)}`);
        await gate?.();
        return {};
      },
    }),
    connection: redis,
    producer,
    log: createLogger('fair-test', 'silent'),
    registry: createMetrics('fair-test').registry,
    concurrency: 1,
  });
}

describe('fair scheduling across tenants', () => {
  it("a small tenant's jobs queued after a 300-job backlog of another tenant run alternately with it, not after it", async () => {
    fresh('fair-order');
    const big = randomUUID();
    const small = randomUUID();
    await producer.enqueueBulk(
      QueueName.scrape,
      'scrape-page',
      Array.from({ length: 300 }, (_, i) => page(big, i)),
    );
    await producer.enqueueBulk(
      QueueName.scrape,
      'scrape-page',
      Array.from({ length: 5 }, (_, i) => page(small, i)),
    );

    const order: string[] = [];
    worker = recordingWorker(order);
    await until(() => order.length === 305, 30_000);
    const tenants = order.map((o) => o.split('|')[0]);
    // Round-robin from the head: big, small, big, small ... then big alone.
    const lastSmall = tenants.lastIndexOf(small);
    expect(lastSmall).toBe(9);
    expect(tenants.slice(0, 10)).toEqual([big, small, big, small, big, small, big, small, big, small]);
    // Each tenant's own jobs keep the order they were queued in.
    const bigIds = order.filter((o) => o.startsWith(big)).map((o) => Number(o.split('|')[1]!.split('-')[1]));
    expect(bigIds).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('a tenant arriving while a backlog drains starts at the head (virtual time), not at zero and not at the back', async () => {
    fresh('fair-vtime');
    const big = randomUUID();
    const late = randomUUID();
    await producer.enqueueBulk(
      QueueName.scrape,
      'scrape-page',
      Array.from({ length: 200 }, (_, i) => page(big, i)),
    );
    const order: string[] = [];
    let hold = false;
    worker = recordingWorker(order, async () => {
      if (hold) await new Promise<void>((r) => (releaseHeld = r));
    });
    await until(() => order.length >= 100, 30_000);
    // Hold the worker on one job while the late tenant enqueues, so the head is known.
    hold = true;
    await until(() => order.length >= 101, 5_000);
    const served = order.length;
    const [head] = await producer.queue(QueueName.scrape).getJobs(['prioritized'], 0, 0, true);
    expect(head?.opts.priority).toBeGreaterThanOrEqual(fairPriority(Priority.NORMAL, 100));
    await producer.enqueueBulk(
      QueueName.scrape,
      'scrape-page',
      Array.from({ length: 4 }, (_, i) => page(late, i)),
    );
    const queued = await producer.queue(QueueName.scrape).getJob(`${late.slice(0, 8)}-0-${Priority.NORMAL}`);
    // Its first place is the head's (the big tenant's next job), not the band's start.
    expect(queued?.opts.priority).toBe(head?.opts.priority);
    hold = false;
    releaseHeld();
    await until(() => order.length === 204, 30_000);
    const after = order.slice(served).map((o) => o.split('|')[0]);
    // Alternating from the head: the late tenant's 4th job within the next 9 (one job taken ahead of the head at most).
    expect(after.lastIndexOf(late)).toBeLessThanOrEqual(9);
    expect(after.filter((t) => t === late)).toHaveLength(4);
  });

  it('keeps the classes in order: every HIGH job before every NORMAL one, every NORMAL one before BULK, whoever queued them', async () => {
    fresh('fair-classes');
    const a = randomUUID();
    const b = randomUUID();
    await producer.enqueueBulk(QueueName.scrape, 'scrape-page', [
      ...Array.from({ length: 20 }, (_, i) => page(a, i, Priority.BULK)),
      ...Array.from({ length: 20 }, (_, i) => page(a, i, Priority.NORMAL)),
    ]);
    await producer.enqueueBulk(QueueName.scrape, 'scrape-page', [page(b, 0, Priority.BULK), page(b, 0, Priority.NORMAL), page(b, 0, Priority.HIGH)]);
    const jobs = await producer.queue(QueueName.scrape).getJobs(['prioritized']);
    expect(jobs).toHaveLength(43);
    const classes = jobs.map((j) => priorityClass(j.opts.priority));
    expect(new Set(classes)).toEqual(new Set([Priority.HIGH, Priority.NORMAL, Priority.BULK]));

    const order: string[] = [];
    worker = recordingWorker(order);
    await until(() => order.length === 43, 30_000);
    const classOf = new Map(jobs.map((j) => [String(j.id), priorityClass(j.opts.priority)]));
    const ran = order.map((o) => classOf.get(o.split('|')[1]!));
    expect(ran).toEqual([Priority.HIGH, ...Array<number>(21).fill(Priority.NORMAL), ...Array<number>(21).fill(Priority.BULK)]);
  });

  it('starts a new epoch when a band drains: a tenant coming back after a big run begins at the band start again', async () => {
    fresh('fair-epoch');
    const a = randomUUID();
    const b = randomUUID();
    await producer.enqueueBulk(
      QueueName.scrape,
      'scrape-page',
      Array.from({ length: 50 }, (_, i) => page(a, i)),
    );
    const order: string[] = [];
    worker = recordingWorker(order);
    await until(async () => order.length === 50 && (await producer.queue(QueueName.scrape).getJobCounts('prioritized', 'active')).prioritized === 0, 30_000);
    await worker.close();
    worker = undefined;
    await producer.enqueue(QueueName.scrape, 'scrape-page', page(b, 0).data, page(b, 0).opts);
    await producer.enqueue(QueueName.scrape, 'scrape-page', page(a, 50).data, page(a, 50).opts);
    const [jobB, jobA] = await Promise.all([
      producer.queue(QueueName.scrape).getJob(page(b, 0).opts.jobId),
      producer.queue(QueueName.scrape).getJob(page(a, 50).opts.jobId),
    ]);
    // Both at the start: a's 50 earlier jobs are not held against it, nor is b's idleness credited.
    expect(jobB?.opts.priority).toBe(fairPriority(Priority.NORMAL, 0));
    expect(jobA?.opts.priority).toBe(fairPriority(Priority.NORMAL, 0));
  });

  it("gives a crawl flow's parent and children places in their own queues' bands, and leaves plain queues their class", async () => {
    fresh('fair-flow');
    const a = randomUUID();
    const b = randomUUID();
    await producer.enqueueBulk(
      QueueName.scrape,
      'scrape-page',
      Array.from({ length: 30 }, (_, i) => page(a, i)),
    );
    await producer.enqueueFlow(
      crawlFlow({ tenantId: b, taskId: `task-${b.slice(0, 8)}`, seeds: ['http://site.test/b/0', 'http://site.test/b/1'], engine: 'http' }),
    );
    const parent = await producer.queue(QueueName.aggregate).getJob(`crawl-task-${b.slice(0, 8)}`);
    expect(parent?.opts.priority).toBe(fairPriority(Priority.NORMAL, 0));
    const children = await producer.queue(QueueName.scrape).getJobs(['prioritized']);
    const seeds = children
      .filter((j) => (j.data as { tenantId: string }).tenantId === b)
      .map((j) => j.opts.priority)
      .sort((x, y) => x! - y!);
    // The head of a's backlog is at place 0: b's seeds take places 0 and 1, beside a's first two.
    expect(seeds).toEqual([fairPriority(Priority.NORMAL, 0), fairPriority(Priority.NORMAL, 1)]);

    const heartbeat = await producer.enqueue(QueueName.maintenance, 'health-check', {}, { priority: Priority.LOW });
    expect(heartbeat.opts.priority).toBe(Priority.LOW);
    expect(priorityClass(heartbeat.opts.priority)).toBe(Priority.LOW);
  });
});
