import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { guardEmbedder, OpenAIEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, someHandlers, JobProducer, Priority, QueueName, type Redis } from '@kbflow/queues';
import { startFakeOpenAI, testRedisUrl, uniquePrefix, type FakeOpenAI } from '@kbflow/testing';
import type { Job, Worker } from 'bullmq';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { DependencyBreaker, listBreakers } from '../src/index.ts';

// The provider behind a breaker, consumed by a real kbflow worker on a real
// queue: failures open the breaker, the queue waits instead of burning
// attempts, and everything completes once the provider recovers.
let redis: Redis;
let provider: FakeOpenAI;

beforeAll(async () => {
  redis = createRedis(testRedisUrl());
  provider = await startFakeOpenAI({ dimensions: 8 });
});

afterAll(async () => {
  await provider.close();
  await redis.quit();
});

async function setup(resetTimeoutMs: number) {
  const prefix = uniquePrefix('breaker');
  const producer = new JobProducer(redis, prefix);
  const metrics = createMetrics('breaker-test');
  const log = createLogger('breaker-test', 'silent');
  // The breaker's own log lines, kept: 'circuit opened' says how many failures opened it.
  const breakerLog: Record<string, unknown>[] = [];
  const breaker = new DependencyBreaker({
    name: 'embedding-provider',
    failureThreshold: 5,
    resetTimeoutMs,
    registry: metrics.registry,
    log: pino({ level: 'info' }, { write: (line: string) => void breakerLog.push(JSON.parse(line) as Record<string, unknown>) }),
    service: 'embedder',
    report: { redis, prefix },
  });
  const embedder = guardEmbedder(new OpenAIEmbedder({ apiKey: 'test', baseURL: provider.url, model: 'fake-embed', dimensions: 8, timeoutMs: 5000 }), (c) =>
    breaker.run(c),
  );
  const worker: Worker = createWorker({
    queue: QueueName.embed,
    handlers: someHandlers(QueueName.embed, {
      'embed-texts': async (data) => ({ embeddings: await embedder.embed(data.texts) }),
      'embed-chunks': async () => ({}),
    }),
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: 2,
  });
  const finished = new Map<string, 'completed' | 'failed'>();
  worker.on('completed', (job: Job) => finished.set(String(job.id), 'completed'));
  worker.on('failed', (job) => job && job.attemptsMade >= (job.opts.attempts ?? 3) && finished.set(String(job.id), 'failed'));
  const teardown = async () => {
    await worker.close();
    await breaker.close();
    await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
    await producer.close();
  };
  return { prefix, producer, metrics, breaker, breakerLog, worker, finished, teardown };
}

async function breakerEvents(registry: Registry, event: string): Promise<number> {
  const metric = registry.getSingleMetric('kbflow_circuit_breaker_events_total');
  const values = (await metric!.get()).values;
  return values.filter((v) => v.labels.breaker === 'embedding-provider' && v.labels.event === event).reduce((a, v) => a + v.value, 0);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a provider behind a circuit breaker, consumed by a kbflow worker', () => {
  it('when the provider answers 500, the breaker opens at the 5th consecutive failure, jobs wait with their attempts, and all complete after recovery', async () => {
    const t = await setup(1500);
    try {
      provider.setFault({ status: 500 });
      const jobs = await t.producer.enqueueBulk(
        QueueName.embed,
        'embed-texts',
        Array.from({ length: 12 }, (_, i) => ({ data: { tenantId: 't', texts: [`text ${i}`] }, opts: { priority: Priority.HIGH } })),
      );
      await until(() => t.breaker.state === 'open', 15_000);
      // It opened at exactly the configured count. With two jobs running at
      // once, the call beside the 5th can be in flight at that moment: it
      // fails afterwards (counted as an event, not towards the next
      // opening), and no call is made once it is open.
      const opened = t.breakerLog.filter((line) => line.msg === 'circuit opened');
      expect(opened).toEqual([expect.objectContaining({ failures: 5 })]);
      expect(provider.requests.length).toBeGreaterThanOrEqual(5);
      expect(provider.requests.length).toBeLessThanOrEqual(6);
      const breakers = await listBreakers(redis, t.prefix);
      expect(breakers).toEqual([expect.objectContaining({ name: 'embedding-provider', state: 'open' })]);
      expect(await t.producer.queue(QueueName.embed).getRateLimitTtl()).toBeGreaterThan(0);

      provider.setFault(null);
      await until(() => t.finished.size === jobs.length, 30_000);
      expect([...t.finished.values()].every((s) => s === 'completed')).toBe(true);
      expect(t.breaker.state).toBe('closed');
      // attemptsMade includes the successful attempt: only the calls made
      // before the breaker opened cost a failed attempt; waiting cost none.
      const attempts = await Promise.all(jobs.map(async (j) => (await t.producer.queue(QueueName.embed).getJob(j.id!))!.attemptsMade));
      const failedAttempts = attempts.reduce((a, b) => a + (b - 1), 0);
      // Every failed call, and only those, cost an attempt.
      expect(failedAttempts).toBe(await breakerEvents(t.metrics.registry, 'failure'));
      expect(failedAttempts).toBeLessThanOrEqual(6);
      expect(await t.producer.queue(QueueName.deadLetter).count()).toBe(0);
      const text = await t.metrics.registry.metrics();
      expect(text).toMatch(/kbflow_circuit_breaker_events_total\{breaker="embedding-provider",event="open"[^}]*\} 1/);
      expect(text).toMatch(/kbflow_circuit_breaker_events_total\{breaker="embedding-provider",event="close"[^}]*\} 1/);
    } finally {
      provider.setFault(null);
      await t.teardown();
    }
  }, 60_000);

  it('when the provider answers 429 with Retry-After, no job fails or loses an attempt', async () => {
    const t = await setup(60_000);
    try {
      provider.setFault({ status: 429, retryAfterSeconds: 1, times: 3 });
      const before = provider.requests.length;
      const jobs = await t.producer.enqueueBulk(
        QueueName.embed,
        'embed-texts',
        Array.from({ length: 6 }, (_, i) => ({ data: { tenantId: 't', texts: [`other ${i}`] }, opts: { priority: Priority.HIGH } })),
      );
      await until(() => t.finished.size === jobs.length, 30_000);
      expect([...t.finished.values()].every((s) => s === 'completed')).toBe(true);
      const attempts = await Promise.all(jobs.map(async (j) => (await t.producer.queue(QueueName.embed).getJob(j.id!))!.attemptsMade));
      // One attempt each (the successful one): the 429s cost none.
      expect(attempts).toEqual(jobs.map(() => 1));
      expect(provider.requests.length - before).toBeGreaterThanOrEqual(jobs.length + 3);
      expect(t.breaker.state).toBe('closed');
    } finally {
      provider.setFault(null);
      await t.teardown();
    }
  }, 60_000);
});
