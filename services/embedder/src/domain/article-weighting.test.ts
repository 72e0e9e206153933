import { describe, expect, it } from '@jest/globals';
import { weightedArticleVector } from './article-weighting.ts';

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('weightedArticleVector', () => {
  it('is normalize(3·title + 2·summary + 1·chunk)', () => {
    const title = [1, 0, 0];
    const summary = [0, 1, 0];
    const chunk = [0, 0, 1];
    const v = weightedArticleVector(chunk, title, summary);
    const length = Math.sqrt(9 + 4 + 1);
    expect(v[0]).toBeCloseTo(3 / length, 12);
    expect(v[1]).toBeCloseTo(2 / length, 12);
    expect(v[2]).toBeCloseTo(1 / length, 12);
    expect(norm(v)).toBeCloseTo(1, 12);
  });

  it('leads toward the title: the weighted vector is closer to the title than to the chunk', () => {
    const title = [0.6, 0.8, 0];
    const chunk = [0, 0.6, 0.8];
    const v = weightedArticleVector(chunk, title, undefined);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(dot(v, title)).toBeGreaterThan(dot(v, chunk));
    // Without summary: normalize(3·title + chunk).
    const raw = [1.8, 3.0, 0.8];
    const length = norm(raw);
    expect(v).toEqual(raw.map((x) => expect.closeTo(x / length, 12)) as unknown as number[]);
  });

  it('is the chunk itself, normalized, when the article has neither title nor summary vector', () => {
    expect(weightedArticleVector([3, 4])).toEqual([expect.closeTo(0.6, 12), expect.closeTo(0.8, 12)]);
  });

  it('refuses vectors of different lengths', () => {
    expect(() => weightedArticleVector([1, 0], [1, 0, 0])).toThrow(RangeError);
  });
});
