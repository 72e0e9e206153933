import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startFakeOpenAI, type FakeOpenAI } from '../../testing/src/fake-openai-server.ts';
import { CachedEmbedder } from './cached-embedder.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';
import { ProviderError } from './provider-error.ts';

const DIMENSIONS = 64;
/** The schema's default bound (KBFLOW_EMBEDDING_CACHE_MB=64). */
const CACHE_BYTES = 64 * 1024 * 1024;
const TENANT_A = '11111111-1111-4111-8111-111111111111';
const TENANT_B = '22222222-2222-4222-8222-222222222222';
let fake: FakeOpenAI;
let inner: OpenAIEmbedder;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dimensions: DIMENSIONS });
  inner = new OpenAIEmbedder({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-embed', dimensions: DIMENSIONS });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.setFault(null);
  fake.requests.length = 0;
});

const inputsSent = (): unknown[] => fake.requests.map((request) => request.body.input);

function expectSameVectors(actual: number[][], expected: number[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((vector, i) => {
    expect(vector).toHaveLength(DIMENSIONS);
    // Held as float32: equal to about 7 significant digits.
    vector.forEach((value, j) => expect(value).toBeCloseTo(expected[i]![j]!, 6));
  });
}

describe('CachedEmbedder (in-process, per tenant, bounded in bytes) against a real provider server', () => {
  it('sends only the misses, once each, and answers a repeat call without a request', async () => {
    const cached = new CachedEmbedder(inner, { maxBytes: CACHE_BYTES });
    const first = await cached.embed(['alpha', 'beta', 'alpha'], { tenantId: TENANT_A });
    expect(inputsSent()).toEqual([['alpha', 'beta']]);
    expect(cached.stats).toEqual({ hits: 0, misses: 3 });
    expect(first[0]).toEqual(first[2]);

    const second = await cached.embed(['beta', 'gamma', 'alpha'], { tenantId: TENANT_A });
    expect(inputsSent()).toEqual([['alpha', 'beta'], ['gamma']]);
    expect(cached.stats).toEqual({ hits: 2, misses: 4 });
    expectSameVectors([second[0]!, second[2]!], [first[1]!, first[0]!]);
  });

  it("never answers one tenant from another's entries, so a tenant cannot probe what another embedded", async () => {
    const cached = new CachedEmbedder(inner, { maxBytes: CACHE_BYTES });
    await cached.embed(['secret roadmap'], { tenantId: TENANT_A });
    await cached.embed(['secret roadmap'], { tenantId: TENANT_B });
    expect(inputsSent()).toEqual([['secret roadmap'], ['secret roadmap']]);
    expect(cached.stats).toEqual({ hits: 0, misses: 2 });
    expect(cached.sizeOf(TENANT_A)).toBe(1);
    expect(cached.sizeOf(TENANT_B)).toBe(1);
  });

  it('keys a batch that mixes tenants text by text', async () => {
    const cached = new CachedEmbedder(inner, { maxBytes: CACHE_BYTES });
    await cached.embed(['one', 'one'], { tenantId: [TENANT_A, TENANT_B] });
    expect(inputsSent()).toEqual([['one', 'one']]);
    await cached.embed(['one'], { tenantId: [TENANT_B] });
    expect(fake.requests).toHaveLength(1);
  });

  it('caches nothing for a call without a tenant', async () => {
    const cached = new CachedEmbedder(inner, { maxBytes: CACHE_BYTES });
    await cached.embed(['alpha']);
    await cached.embed(['alpha']);
    expect(fake.requests).toHaveLength(2);
    expect(cached.size).toBe(0);
  });

  it('with a bound of 0 bytes (KBFLOW_EMBEDDING_CACHE_MB=0) is off: every call goes to the provider', async () => {
    const cached = new CachedEmbedder(inner, { maxBytes: 0 });
    await cached.embed(['alpha'], { tenantId: 't-1' });
    await cached.embed(['alpha'], { tenantId: 't-1' });
    expect(fake.requests).toHaveLength(2);
    expect([cached.size, cached.bytes, cached.purgeTenant('t-1')]).toEqual([0, 0, 0]);
  });

  it('stays within its byte bound, evicting the least recently used, and purges one tenant only', async () => {
    const entryBytes = DIMENSIONS * 4 + 256;
    const cached = new CachedEmbedder(inner, { maxBytes: entryBytes * 10 });
    await cached.embed(
      Array.from({ length: 25 }, (_, i) => `text ${i}`),
      { tenantId: TENANT_A },
    );
    expect(cached.bytes).toBeLessThanOrEqual(entryBytes * 10);
    expect(cached.size).toBe(10);
    // The newest stayed; the oldest went.
    fake.requests.length = 0;
    await cached.embed(['text 24'], { tenantId: TENANT_A });
    expect(fake.requests).toHaveLength(0);
    await cached.embed(['text 0'], { tenantId: TENANT_A });
    expect(fake.requests).toHaveLength(1);

    await cached.embed(['kept'], { tenantId: TENANT_B });
    expect(cached.purgeTenant(TENANT_A)).toBeGreaterThan(0);
    expect(cached.sizeOf(TENANT_A)).toBe(0);
    expect(cached.sizeOf(TENANT_B)).toBe(1);
  });

  it('when the provider fails, throws its error and caches nothing', async () => {
    const cached = new CachedEmbedder(inner, { maxBytes: CACHE_BYTES });
    fake.setFault({ status: 500, times: 1 });
    const error = await cached.embed(['alpha'], { tenantId: TENANT_A }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(cached.size).toBe(0);
  });

  it('filling the cache writes nothing to Redis, so queue writes keep working (issue 14 item 10)', async () => {
    const redis = new Redis(process.env.KBFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const prefix = `{kbflow-test-cache-${process.pid}-${Date.now()}}`;
    const queue = new Queue('embed', { connection: redis, prefix });
    try {
      const cached = new CachedEmbedder(inner, { maxBytes: 256 * 1024 });
      for (let round = 0; round < 10; round++) {
        await cached.embed(
          Array.from({ length: 100 }, (_, i) => `filler ${round}-${i}`),
          { tenantId: TENANT_A },
        );
      }
      // 1,000 vectors asked to be kept, the bound held: the cache filled and evicted in this process.
      expect(cached.bytes).toBeLessThanOrEqual(256 * 1024);
      expect(cached.stats.misses).toBe(1000);
      const job = await queue.add('embed-texts', { tenantId: TENANT_A, texts: ['still queued'] });
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect(job.id).toBeDefined();
      // Nothing of the cache in this Redis: no key under any prefix but the queue's own.
      expect((await redis.keys(`${prefix}:*`)).every((k) => k.startsWith(`${prefix}:embed:`))).toBe(true);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.quit();
    }
  });
});
