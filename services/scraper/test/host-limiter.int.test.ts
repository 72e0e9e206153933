import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createRedis, TenantSlots, type Redis } from '@kbflow/queues';
import { deletePrefixKeys, testRedisUrl, uniquePrefix } from '@kbflow/testing';
import { HostLimiter, type HostSlot } from '../src/politeness/host-limiter.ts';

// The per-host limiter against the real Redis: its Lua scripts are the
// whole of the cross-replica guarantee, so each rule is checked there.
let redis: Redis;
const prefix = uniquePrefix('host-limiter');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const granted = (slot: HostSlot) => {
  if (!slot.granted) throw new Error(`expected a slot, got ${slot.reason}`);
  return slot;
};

beforeAll(() => {
  redis = createRedis(testRedisUrl());
});

afterAll(async () => {
  await deletePrefixKeys(redis, prefix);
  await redis.quit();
});

describe('HostLimiter', () => {
  it('grants maxConcurrency slots per host, refuses the next until one is released, and keeps hosts apart', async () => {
    const limiter = new HostLimiter(redis, prefix, { leaseMs: 10_000 });
    const limits = { maxConcurrency: 2, minDelayMs: 0 };
    const a = granted(await limiter.acquire('busy.test', limits));
    granted(await limiter.acquire('busy.test', limits));
    expect(await limiter.acquire('busy.test', limits)).toEqual({ granted: false, waitMs: 0, reason: 'host-busy' });
    granted(await limiter.acquire('other.test', limits));
    await a.release();
    granted(await limiter.acquire('busy.test', limits));
  });

  it('keeps minDelayMs between one release and the next start', async () => {
    const limiter = new HostLimiter(redis, prefix, { leaseMs: 10_000 });
    const limits = { maxConcurrency: 4, minDelayMs: 800 };
    await granted(await limiter.acquire('slow.test', limits)).release();
    const next = await limiter.acquire('slow.test', limits);
    expect(next).toMatchObject({ granted: false, reason: 'host-delay' });
    expect((next as { waitMs: number }).waitMs).toBeGreaterThan(0);
    expect((next as { waitMs: number }).waitMs).toBeLessThanOrEqual(800);
  });

  it('holds a backed-off host until the back-off ends, and never shortens a longer one', async () => {
    const limiter = new HostLimiter(redis, prefix, { leaseMs: 10_000 });
    expect(await limiter.backoff('throttled.test', 5000)).toBeGreaterThan(4000);
    expect(await limiter.backoff('throttled.test', 1000)).toBeGreaterThan(4000);
    const slot = await limiter.acquire('throttled.test', { maxConcurrency: 4, minDelayMs: 0 });
    expect(slot).toMatchObject({ granted: false, reason: 'host-backoff' });
    expect((slot as { waitMs: number }).waitMs).toBeGreaterThan(4000);
  });

  it("renews a long fetch's lease, and frees the slot of a scraper that died holding it", async () => {
    const limits = { maxConcurrency: 1, minDelayMs: 0 };
    const survivor = new HostLimiter(redis, prefix, { leaseMs: 300 });
    const long = granted(await survivor.acquire('lease.test', limits));
    await sleep(800);
    // Renewed every 100 ms: still held well past its 300 ms lease.
    expect(await survivor.acquire('lease.test', limits)).toMatchObject({ granted: false, reason: 'host-busy' });
    await long.release();

    // A scraper killed mid-fetch: its connection is gone, so nothing renews its lease.
    const doomedRedis = createRedis(testRedisUrl());
    const doomed = new HostLimiter(doomedRedis, prefix, { leaseMs: 300 });
    const held = granted(await doomed.acquire('lease.test', limits));
    doomedRedis.disconnect();
    expect(await survivor.acquire('lease.test', limits)).toMatchObject({ granted: false, reason: 'host-busy' });
    await sleep(500);
    granted(await survivor.acquire('lease.test', limits));
    await held.release().catch(() => undefined);
  });
  it("takes the tenant's share with the host's slot (both or neither), in the set TenantSlots counts, and gives each back as asked", async () => {
    const limiter = new HostLimiter(redis, prefix, { leaseMs: 10_000 });
    const tenant = randomUUID();
    const slots = new TenantSlots({ redis, prefix, limitOf: async () => 2 });
    const share = await slots.shareOf('scrape', tenant);
    const limits = { maxConcurrency: 1, minDelayMs: 0 };
    const first = granted(await limiter.acquire('t1.test', limits, share));
    expect(await slots.held('scrape', tenant)).toBe(1);
    // The host is busy: nothing is taken, the tenant's share included.
    expect(await limiter.acquire('t1.test', limits, share)).toEqual({ granted: false, waitMs: 0, reason: 'host-busy' });
    expect(await slots.held('scrape', tenant)).toBe(1);
    const second = granted(await limiter.acquire('t2.test', limits, share));
    // The tenant's two are in use: a third host's slot is not taken either.
    expect(await limiter.acquire('t3.test', limits, share)).toEqual({ granted: false, waitMs: 0, reason: 'tenant-limit' });
    await granted(await limiter.acquire('t3.test', limits)).release();
    // Host back, share kept until the job ends.
    const kept = await first.releaseHost();
    await granted(await limiter.acquire('t1.test', limits)).release();
    expect(await slots.held('scrape', tenant)).toBe(2);
    await kept.release();
    await second.release();
    expect(await slots.held('scrape', tenant)).toBe(0);
    await granted(await limiter.acquire('t2.test', limits)).release();
  });
});
