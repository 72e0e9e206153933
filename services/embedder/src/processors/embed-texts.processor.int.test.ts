// embedTexts against the real OpenAI client and a local OpenAI-compatible
// server (which answers in reverse input order): the texts come back
// embedded in the order asked, and a provider refusal surfaces as the
// ProviderError the worker classifies.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { HashingEmbedder, OpenAIEmbedder, ProviderError } from '@kbflow/embeddings';
import { startFakeOpenAI, type FakeOpenAI } from '@kbflow/testing';
import { embedTexts } from './embed-texts.processor.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const DIMENSIONS = 64;

let provider: FakeOpenAI;
let embedder: OpenAIEmbedder;

beforeAll(async () => {
  provider = await startFakeOpenAI({ dimensions: DIMENSIONS });
  embedder = new OpenAIEmbedder({ apiKey: 'sk-test', baseURL: provider.url, model: 'fake-embed', dimensions: DIMENSIONS });
});

afterAll(async () => {
  await provider.close();
});

beforeEach(() => {
  provider.setFault(null);
  provider.requests.length = 0;
});

describe('embedTexts', () => {
  it('returns one vector per text, in the order asked, with the model and its dimensions, from one provider request', async () => {
    const texts = ['how do I reset my password', 'billing address change', 'export a report as CSV'];
    const result = await embedTexts({ tenantId: TENANT, texts }, { embedder });
    const expected = await new HashingEmbedder({ dimensions: DIMENSIONS }).embed(texts);
    expect(result.model).toBe('fake-embed');
    expect(result.dimensions).toBe(DIMENSIONS);
    expect(result.embeddings).toHaveLength(3);
    result.embeddings.forEach((vector, i) => {
      expect(vector).toHaveLength(DIMENSIONS);
      vector.forEach((x, j) => expect(x).toBeCloseTo(expected[i]![j]!, 5));
    });
    expect(provider.requests.map((r) => [r.path, r.body.input])).toEqual([['/v1/embeddings', texts]]);
  });

  it('a provider that refuses the key fails with a ProviderError that is not retryable', async () => {
    provider.setFault({ status: 401, times: 1 });
    const error = await embedTexts({ tenantId: TENANT, texts: ['hello'] }, { embedder }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_rejected', status: 401, retryable: false });
  });
});
