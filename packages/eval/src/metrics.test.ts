import { describe, expect, it } from '@jest/globals';
import { firstRelevantRank, percentile, summarize, type QuestionOutcome } from './metrics.ts';

const outcome = (mode: QuestionOutcome['mode'], category: string, rank: number | null, latencyMs = 10, error?: string): QuestionOutcome => ({
  questionId: `${mode}-${category}-${rank}`,
  category,
  mode,
  firstRelevantRank: rank,
  latencyMs,
  ...(error ? { error } : {}),
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = [50, 10, 40, 20, 30];
    expect(percentile(values, 50)).toBe(30);
    expect(percentile(values, 95)).toBe(50);
    expect(percentile(values, 0)).toBe(10);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('firstRelevantRank', () => {
  it('is 1-based and looks only at the first topK results', () => {
    expect(firstRelevantRank(['a', 'b', 'c'], (x) => x === 'b', 10)).toBe(2);
    expect(firstRelevantRank(['a', 'b', 'c'], (x) => x === 'c', 2)).toBeNull();
    expect(firstRelevantRank([], () => true, 10)).toBeNull();
  });
});

describe('summarize', () => {
  it('computes hit@1/3/5 and MRR per mode, counting misses and failed requests', () => {
    const outcomes = [
      outcome('hybrid', 'rbac', 1),
      outcome('hybrid', 'rbac', 3),
      outcome('hybrid', 'plugins', 5),
      outcome('hybrid', 'plugins', null),
      outcome('vector', 'rbac', 2),
      outcome('vector', 'rbac', 8),
      outcome('vector', 'plugins', null, 999, 'POST /v1/search answered 504'),
      outcome('vector', 'plugins', 4),
    ];
    const [hybrid, vector] = summarize(outcomes, 10);
    expect(hybrid).toMatchObject({ mode: 'hybrid', questions: 4, hitAt1: 0.25, hitAt3: 0.5, hitAt5: 0.75, errors: 0 });
    expect(hybrid!.mrr).toBeCloseTo((1 + 1 / 3 + 1 / 5) / 4, 4);
    expect(hybrid!.byCategory).toEqual({ plugins: { questions: 2, hitAt5: 0.5 }, rbac: { questions: 2, hitAt5: 1 } });
    expect(vector).toMatchObject({ mode: 'vector', questions: 4, hitAt1: 0, hitAt3: 0.25, hitAt5: 0.5, errors: 1 });
    expect(vector!.mrr).toBeCloseTo((1 / 2 + 1 / 8 + 1 / 4) / 4, 4);
    // The failed request's time is not a latency.
    expect(vector!.latencyP95Ms).toBe(10);
  });

  it('gives no reciprocal rank past topK', () => {
    const [only] = summarize([outcome('keyword', 'x', 7)], 5);
    expect(only!.mrr).toBe(0);
  });

  it('lists the modes in a fixed order, only those asked', () => {
    expect(summarize([outcome('keyword', 'x', 1), outcome('hybrid', 'x', 1)], 10).map((m) => m.mode)).toEqual(['hybrid', 'keyword']);
  });
});
