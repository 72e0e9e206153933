import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startFakeOpenAI, type FakeOpenAI } from '../../testing/src/fake-openai-server.ts';
import { CachedEmbedder } from './cached-embedder.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';
import { ProviderError } from './provider-error.ts';

const DIMENSIONS = 64;
let fake: FakeOpenAI;
let redis: Redis;
let keyPrefix: string;
let inner: OpenAIEmbedder;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dimensions: DIMENSIONS });
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  inner = new OpenAIEmbedder({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-embed', dimensions: DIMENSIONS });
});

afterAll(async () => {
  await fake.close();
  await redis.quit();
});

beforeEach(() => {
  keyPrefix = `{kbflow-test}:emb:${randomUUID()}`;
  fake.setFault(null);
  fake.requests.length = 0;
});

afterEach(async () => {
  const keys = await redis.keys(`${keyPrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
});

const inputsSent = (): unknown[] => fake.requests.map((request) => request.body.input);

function expectSameVectors(actual: number[][], expected: number[][]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((vector, i) => {
    expect(vector).toHaveLength(DIMENSIONS);
    // Stored as float32: equal to about 7 significant digits.
    vector.forEach((value, j) => expect(value).toBeCloseTo(expected[i]![j]!, 6));
  });
}

describe('CachedEmbedder with real Redis', () => {
  it('sends only the misses, once each, and answers a repeat call from Redis without a request', async () => {
    const cached = new CachedEmbedder(inner, redis, { keyPrefix });
    const first = await cached.embed(['alpha', 'beta', 'alpha']);
    expect(inputsSent()).toEqual([['alpha', 'beta']]);
    expect(cached.stats).toEqual({ hits: 0, misses: 3 });
    expect(first[0]).toEqual(first[2]);

    const second = await cached.embed(['beta', 'gamma', 'alpha']);
    expect(inputsSent()).toEqual([['alpha', 'beta'], ['gamma']]);
    expect(cached.stats).toEqual({ hits: 2, misses: 4 });
    expectSameVectors([second[0]!, second[2]!], [first[1]!, first[0]!]);

    const third = await cached.embed(['alpha', 'beta', 'gamma']);
    expect(fake.requests).toHaveLength(2);
    expect(cached.stats).toEqual({ hits: 5, misses: 4 });
    expectSameVectors(third, [first[0]!, first[1]!, second[1]!]);
  });

  it('stores float32 bytes under the model-and-text hash with the TTL', async () => {
    const cached = new CachedEmbedder(inner, redis, { keyPrefix, ttlSeconds: 60 });
    await cached.embed(['alpha']);
    const key = cached.keyFor('alpha');
    expect(key).toMatch(new RegExp(`^${keyPrefix.replace(/[{}]/g, '\\$&')}:[0-9a-f]{64}$`));
    expect((await redis.getBuffer(key))?.length).toBe(DIMENSIONS * 4);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await redis.keys(`${keyPrefix}:*`)).toEqual([key]);
  });

  it('defaults to a 7-day TTL', async () => {
    const cached = new CachedEmbedder(inner, redis, { keyPrefix });
    await cached.embed(['alpha']);
    expect(await redis.ttl(cached.keyFor('alpha'))).toBeGreaterThan(7 * 24 * 3600 - 60);
  });

  it('treats a stored value of the wrong size as a miss and overwrites it', async () => {
    const cached = new CachedEmbedder(inner, redis, { keyPrefix });
    await redis.set(cached.keyFor('alpha'), Buffer.alloc(12));
    const [vector] = await cached.embed(['alpha']);
    expect(fake.requests).toHaveLength(1);
    expect(vector).toHaveLength(DIMENSIONS);
    expect((await redis.getBuffer(cached.keyFor('alpha')))?.length).toBe(DIMENSIONS * 4);
  });

  it('when the provider fails, throws its error and caches nothing', async () => {
    const cached = new CachedEmbedder(inner, redis, { keyPrefix });
    fake.setFault({ status: 500, times: 1 });
    const error = await cached.embed(['alpha']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(await redis.keys(`${keyPrefix}:*`)).toEqual([]);
  });
});
