import { describe, expect, it } from '@jest/globals';
import { HashingEmbedder } from './hashing-embedder.ts';
import { dot } from './vector.ts';

const embedder = new HashingEmbedder();
const cosine = (a: string, b: string): number => dot(embedder.embedOne(a), embedder.embedOne(b));
const norm = (v: number[]): number => Math.sqrt(dot(v, v));

describe('HashingEmbedder', () => {
  it('names itself for what it is and defaults to 384 dimensions', () => {
    expect(embedder.model).toBe('local-hashing-ngram-v1');
    expect(embedder.dimensions).toBe(384);
    expect(embedder.embedOne('hello world')).toHaveLength(384);
    expect(new HashingEmbedder({ dimensions: 1024 }).embedOne('hello world')).toHaveLength(1024);
  });

  it('rejects a dimension count that is not an integer of at least 2', () => {
    expect(() => new HashingEmbedder({ dimensions: 0 })).toThrow(RangeError);
    expect(() => new HashingEmbedder({ dimensions: 1.5 })).toThrow(RangeError);
  });

  it('returns unit vectors, one per text, in input order', async () => {
    const texts = ['BullMQ retries failed jobs', 'x'.repeat(5000), 'Ünïcödé naïve café 日本語', '42'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(4);
    vectors.forEach((vector, i) => {
      expect(norm(vector)).toBeCloseTo(1, 10);
      expect(vector).toEqual(embedder.embedOne(texts[i]!));
    });
  });

  it('gives the same vector for the same text in a fresh instance (no hidden state)', () => {
    const text = 'Configure the worker concurrency and the lock duration.';
    const first = new HashingEmbedder().embedOne(text);
    new HashingEmbedder().embedOne('something else entirely to warm caches');
    expect(new HashingEmbedder().embedOne(text)).toEqual(first);
  });

  it('keeps its output pinned: a change here must come with a new model name', () => {
    // Stored vectors are only comparable with vectors from the same algorithm;
    // these numbers are what local-hashing-ngram-v1 produced when it shipped.
    const vector = new HashingEmbedder({ dimensions: 16 }).embedOne('Retry failed jobs with exponential backoff.');
    expect(vector.map((value) => Number(value.toFixed(6)))).toEqual(GOLDEN_16);
  });

  it('scores related texts well above unrelated ones', () => {
    const question = 'How do I retry a failed job in BullMQ?';
    const related = cosine(question, 'BullMQ retries failed jobs automatically when attempts and backoff are set.');
    const unrelated = cosine(question, 'The recipe calls for two cups of flour, a pinch of salt and three eggs.');
    expect(related).toBeGreaterThan(0.5);
    expect(Math.abs(unrelated)).toBeLessThan(0.15);

    const reset = 'Reset your password from the account settings page';
    expect(cosine(reset, 'To change the password, open account settings and choose reset password.')).toBeGreaterThan(0.5);
    expect(Math.abs(cosine(reset, 'Kubernetes schedules pods onto nodes by resource requests.'))).toBeLessThan(0.15);
  });

  it('matches word forms through plural folding and character n-grams', () => {
    expect(cosine('configuring queues', 'queue configuration')).toBeGreaterThan(0.4);
    expect(Math.abs(cosine('configuring queues', 'billing invoices'))).toBeLessThan(0.15);
    expect(cosine('job queues', 'queue jobs')).toBeGreaterThan(0.6);
  });

  it('matches identifiers both whole and by their parts', () => {
    const query = 'str.split';
    const exact = cosine(query, 'Call str.split(sep) to cut a string into a list.');
    const parts = cosine(query, 'The split method of str returns a list of substrings.');
    const unrelated = cosine(query, 'Invoices are emailed at the end of each billing cycle.');
    expect(exact).toBeGreaterThan(parts);
    expect(parts).toBeGreaterThan(0.2);
    expect(Math.abs(unrelated)).toBeLessThan(0.1);
    expect(cosine('getUserName', 'get the user name')).toBeGreaterThan(0.5);
  });

  it('ignores case, width and compatibility forms (NFKC)', () => {
    expect(embedder.embedOne('ＡＢＣ ﬁle Straße')).toEqual(embedder.embedOne('abc file straße'));
    expect(embedder.embedOne('Hello, World!')).toEqual(embedder.embedOne('hello world'));
  });

  it('never returns a zero vector: empty and punctuation-only texts get a deterministic unit vector', () => {
    for (const text of ['', '   ', '!!! ???', '— …']) {
      const vector = embedder.embedOne(text);
      expect(norm(vector)).toBeCloseTo(1, 10);
      expect(new HashingEmbedder().embedOne(text)).toEqual(vector);
    }
    expect(Math.abs(cosine('', '!!! ???'))).toBeLessThan(0.3);
  });

  it('embeds a stopword-only question by its stopwords rather than as noise', () => {
    expect(cosine('what is it', 'What is it?')).toBeCloseTo(1, 10);
    expect(cosine('what is it', 'is it what')).toBeGreaterThan(0.6);
    expect(Math.abs(cosine('what is it', 'where are they'))).toBeLessThan(0.2);
  });
});

const GOLDEN_16 = [
  0, 0, 0, 0.307692, 0.076923, -0.153846, 0.076923, -0.461538, -0.307692, 0.153846, -0.384615, -0.307692, 0.076923, 0.230769, 0.461538, 0.153846,
];
