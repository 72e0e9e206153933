// The shared provider limiter against the real Redis: three instances (as
// three replicas) never admit more than the limit in any rolling window, a
// 429 halves the shared rate and holds every caller back, a spent
// x-ratelimit header holds them until its reset, and a long wait goes back
// to the queue as a retryable error carrying it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { testRedisUrl, uniquePrefix } from '../../testing/src/databases.ts';
import { ProviderRateLimiter } from './provider-rate-limiter.ts';

let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(testRedisUrl());
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

function limiters(n: number, limits: { requests: number; tokens: number; windowMs: number }, registry?: Registry): ProviderRateLimiter[] {
  const prefix = uniquePrefix('provider-limit');
  prefixes.push(prefix);
  return Array.from({ length: n }, () => new ProviderRateLimiter({ redis, prefix, name: 'embedding', limits, ...(registry ? { registry } : {}) }));
}

async function rateOf(registry: Registry): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'kbflow_provider_rate');
  return Number((metric as { values: { value: number }[] }).values[0]!.value);
}

describe('ProviderRateLimiter', () => {
  it('three replicas together admit at most the limit in any rolling window, requests and tokens', async () => {
    const windowMs = 1000;
    const group = limiters(3, { requests: 8, tokens: 60, windowMs }, undefined);
    const admitted: { at: number; tokens: number }[] = [];
    // 36 requests of 5 tokens (the TPM admits 12 a window, the RPM 8: the RPM binds) from 3 x 4 concurrent callers.
    await Promise.all(
      Array.from({ length: 12 }, async (_, caller) => {
        for (let i = 0; i < 3; i++) {
          const entry = await group[caller % 3]!.acquire(5);
          admitted.push({ at: Date.now(), tokens: 5 });
          await group[caller % 3]!.settle(entry);
        }
      }),
    );
    admitted.sort((a, b) => a.at - b.at);
    expect(admitted).toHaveLength(36);
    for (const first of admitted) {
      const inWindow = admitted.filter((a) => a.at >= first.at && a.at < first.at + windowMs);
      expect(inWindow.length).toBeLessThanOrEqual(8);
      expect(inWindow.reduce((sum, a) => sum + a.tokens, 0)).toBeLessThanOrEqual(60);
    }
  }, 30_000);

  it('a 429 halves the shared rate for every replica and holds them all for its Retry-After, handed to the queue when long', async () => {
    const registry = new Registry();
    const [one, two] = limiters(2, { requests: 100, tokens: 1e9, windowMs: 60_000 }, registry);
    await one!.settle(await one!.acquire(10));
    expect(await rateOf(registry)).toBe(1);
    await one!.rateLimited(8_000);
    expect(await rateOf(registry)).toBeCloseTo(0.5, 2);
    // The other replica is held too: the wait is longer than it sleeps, so it comes back as a retryable rate limit.
    const error = await two!.acquire(10).then(
      () => undefined,
      (e: unknown) => e as { code: string; retryable: boolean; retryAfterMs: number; status: number },
    );
    expect(error).toMatchObject({ code: 'provider_rate_limited', retryable: true, status: 429 });
    expect(error!.retryAfterMs).toBeGreaterThan(5_000);
    expect(error!.retryAfterMs).toBeLessThanOrEqual(8_000);
  });

  it('a response saying a limit is spent holds every replica until the reset it names', async () => {
    const [one, two] = limiters(2, { requests: 100, tokens: 1e9, windowMs: 60_000 });
    one!.noteHeaders(new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '7s' }));
    const until = Date.now() + 5_000;
    let error: { retryAfterMs?: number } | undefined;
    // noteHeaders writes in the background: the hold shows up within moments.
    while (!error && Date.now() < until) {
      error = await two!.acquire(1).then(
        async (entry) => {
          await two!.settle(entry);
          return undefined;
        },
        (e: unknown) => e as { retryAfterMs: number },
      );
    }
    expect(error?.retryAfterMs).toBeGreaterThan(5_000);
    expect(error?.retryAfterMs).toBeLessThanOrEqual(7_000);
  });

  it('the rate recovers additively with the windows that pass', async () => {
    const registry = new Registry();
    const [one] = limiters(1, { requests: 100, tokens: 1e9, windowMs: 1_000 }, registry);
    await one!.rateLimited(1);
    expect(await rateOf(registry)).toBeCloseTo(0.5, 2);
    // A quarter of the limits per window: two windows later it is whole again.
    await new Promise((r) => setTimeout(r, 2_100));
    await one!.settle(await one!.acquire(1));
    expect(await rateOf(registry)).toBe(1);
  });
});
