import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeOpenAI, type FakeOpenAI } from '../../testing/src/fake-openai-server.ts';
import { HashingEmbedder } from './hashing-embedder.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';
import { ProviderError } from './provider-error.ts';
import { dot } from './vector.ts';

let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ dimensions: 384 });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.setFault(null);
  fake.requests.length = 0;
});

const embedderFor = (opts: { model?: string; dimensions?: number; timeoutMs?: number } = {}): OpenAIEmbedder =>
  new OpenAIEmbedder({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-embed', dimensions: 384, ...opts });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('OpenAIEmbedder against an OpenAI-compatible server', () => {
  it('embeds a batch in one request and returns unit vectors in input order, though the server reverses them', async () => {
    const texts = ['retry failed jobs', 'reset a password', 'bake bread with flour'];
    const vectors = await embedderFor().embed(texts);

    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.path).toBe('/v1/embeddings');
    expect(fake.requests[0]!.body).toMatchObject({ model: 'fake-embed', input: texts });
    expect(fake.requests[0]!.body).not.toHaveProperty('dimensions');
    const local = new HashingEmbedder({ dimensions: 384 });
    expect(vectors).toHaveLength(3);
    vectors.forEach((vector, i) => {
      expect(vector).toHaveLength(384);
      expect(dot(vector, vector)).toBeCloseTo(1, 6);
      expect(dot(vector, local.embedOne(texts[i]!))).toBeCloseTo(1, 6);
    });
    expect(dot(vectors[0]!, local.embedOne(texts[1]!))).toBeLessThan(0.5);
  });

  it('asks a text-embedding-3 model for the configured size', async () => {
    const vectors = await embedderFor({ model: 'text-embedding-3-small', dimensions: 256 }).embed(['hello']);
    expect(fake.requests[0]!.body).toMatchObject({ model: 'text-embedding-3-small', dimensions: 256 });
    expect(vectors[0]).toHaveLength(256);
  });

  it('sends nothing for an empty batch and a space for an empty text, which the API would reject', async () => {
    const embedder = embedderFor();
    expect(await embedder.embed([])).toEqual([]);
    expect(fake.requests).toHaveLength(0);
    const [vector] = await embedder.embed(['']);
    expect(fake.requests[0]!.body).toMatchObject({ input: [' '] });
    expect(dot(vector!, vector!)).toBeCloseTo(1, 6);
  });

  it('when vectors come back with the wrong size, fails permanently instead of storing them', async () => {
    const error = await failure(embedderFor({ dimensions: 512 }).embed(['hello']));
    expect(error).toMatchObject({ code: 'provider_bad_response', retryable: false });
    expect(error.message).toContain('384 dimensions, expected 512');
  });

  it('on 429 with Retry-After: 2, throws a retryable error that carries 2000 ms, once, without retrying itself', async () => {
    fake.setFault({ status: 429, retryAfterSeconds: 2, times: 1 });
    const embedder = embedderFor();
    const error = await failure(embedder.embed(['hello']));
    expect(error).toMatchObject({ code: 'provider_rate_limited', status: 429, retryAfterMs: 2000, retryable: true });
    expect(fake.requests).toHaveLength(1);
    expect(await embedder.embed(['hello'])).toHaveLength(1);
    expect(fake.requests).toHaveLength(2);
  });

  it('on 500, throws a retryable error', async () => {
    fake.setFault({ status: 500 });
    expect(await failure(embedderFor().embed(['hello']))).toMatchObject({ status: 500, retryable: true });
    expect(fake.requests).toHaveLength(1);
  });

  it('on 401, throws an error that is not retryable', async () => {
    fake.setFault({ status: 401 });
    expect(await failure(embedderFor().embed(['hello']))).toMatchObject({
      code: 'provider_rejected',
      status: 401,
      retryable: false,
    });
  });

  it('on a connection reset, throws a retryable error without a status', async () => {
    fake.setFault({ reset: true, times: 1 });
    const error = await failure(embedderFor().embed(['hello']));
    expect(error).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(error.status).toBeUndefined();
  });

  it('when the server is slower than the timeout, throws a retryable timeout', async () => {
    fake.setFault({ delayMs: 2000 });
    const started = Date.now();
    const error = await failure(embedderFor({ timeoutMs: 200 }).embed(['hello']));
    expect(error).toMatchObject({ code: 'provider_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
