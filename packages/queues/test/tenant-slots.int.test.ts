// A tenant's share of the workers (issue 12 item 2) against a real Redis and
// BullMQ: jobs beyond the tenant's maxConcurrentProcessing are deferred, not
// failed, keep their attempts and all complete; another tenant is not held
// up; a lease its holder never released (a killed worker) frees itself.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { testRedisUrl, uniquePrefix } from '@kbflow/testing';
import type { Job } from 'bullmq';
import {
  createRedis,
  createWorker,
  JobProducer,
  LeaseLimiter,
  Priority,
  QueueName,
  someHandlers,
  TenantSlots,
  tenantLimitWaitingKey,
  type Redis,
} from '../src/index.ts';

let redis: Redis;

beforeAll(() => {
  redis = createRedis(testRedisUrl());
});

afterAll(async () => {
  await redis.quit();
});

async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tenant slots', () => {
  it('when a tenant is at its concurrency limit, its further jobs are deferred with attempts intact and all complete; another tenant runs meanwhile', async () => {
    const prefix = uniquePrefix('slots');
    const producer = new JobProducer(redis, prefix);
    const metrics = createMetrics('slots-test');
    const busy = randomUUID();
    const other = randomUUID();
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const slots = new TenantSlots({ redis, prefix, limitOf: async (tenantId) => (tenantId === busy ? 2 : 10) });
    const worker = createWorker({
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, {
        'embed-chunks': async (data) => {
          const now = (running.get(data.tenantId) ?? 0) + 1;
          running.set(data.tenantId, now);
          peak.set(data.tenantId, Math.max(peak.get(data.tenantId) ?? 0, now));
          await new Promise((r) => setTimeout(r, 300));
          running.set(data.tenantId, running.get(data.tenantId)! - 1);
          return { ok: true };
        },
      }),
      connection: redis,
      producer,
      log: createLogger('slots-test', 'silent'),
      registry: metrics.registry,
      concurrency: 8,
      tenantSlots: slots,
    });
    const completed: string[] = [];
    const failed: string[] = [];
    worker.on('completed', (job: Job) => completed.push(String(job.id)));
    worker.on('failed', (job) => job && failed.push(String(job.id)));
    try {
      const job = (tenantId: string, id: string) => ({
        data: { tenantId, documentId: randomUUID(), chunkIds: [randomUUID()] },
        opts: { priority: Priority.NORMAL, jobId: id },
      });
      await producer.enqueueBulk(QueueName.embed, 'embed-chunks', [
        ...Array.from({ length: 6 }, (_, i) => job(busy, `busy-${i}`)),
        job(other, 'other-0'),
        job(other, 'other-1'),
      ]);

      // The waiting mark task status reads appears while busy's jobs are held back.
      await until(async () => (await redis.get(tenantLimitWaitingKey(prefix, busy))) === '2', 5_000);
      await until(() => completed.includes('other-0') && completed.includes('other-1'), 10_000);
      expect(completed.filter((id) => id.startsWith('busy-')).length).toBeLessThan(6);

      await until(() => completed.length === 8, 30_000);
      expect(failed).toEqual([]);
      expect(peak.get(busy)).toBeLessThanOrEqual(2);
      expect(peak.get(busy)).toBeGreaterThanOrEqual(1);
      const queue = producer.queue(QueueName.embed);
      for (let i = 0; i < 6; i++) expect((await queue.getJob(`busy-${i}`))?.attemptsMade).toBe(1);
      const deferred = await metrics.registry.getSingleMetric('kbflow_jobs_deferred_total')!.get();
      expect(deferred.values).toEqual([expect.objectContaining({ labels: { queue: 'embed', reason: 'tenant-limit' } })]);
      expect(deferred.values[0]!.value).toBeGreaterThan(0);
      // Every slot was given back.
      expect(await slots.held('embed', busy)).toBe(0);
    } finally {
      await worker.close();
      await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
      await producer.close();
    }
  }, 45_000);

  it('a lease never released (its holder was killed) frees itself after its lease time', async () => {
    const key = `${uniquePrefix('lease')}:leases`;
    // The "killed" holder: its own connection, gone while it holds the lease (its renewals then fail).
    const doomed = createRedis(testRedisUrl());
    const held = await new LeaseLimiter(doomed, { leaseMs: 600 }).acquire(key, 1);
    expect(held).toBeDefined();
    doomed.disconnect();
    const limiter = new LeaseLimiter(redis, { leaseMs: 600 });
    expect(await limiter.acquire(key, 1)).toBeUndefined();
    await until(async () => {
      const lease = await limiter.acquire(key, 1);
      if (!lease) return false;
      await lease.release();
      return true;
    }, 5_000);
    expect(await limiter.held(key)).toBe(0);
    await redis.del(key);
  });
});
