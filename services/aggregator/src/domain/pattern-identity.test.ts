import { describe, expect, it } from '@jest/globals';
import type { DetectedPattern } from './knowledge-patterns.ts';
import { planArticles, sourceFingerprint, type KnownArticle } from './pattern-identity.ts';

const pattern = (category: string, ids: string[]): DetectedPattern => ({
  category,
  members: ids.map((caseId, i) => ({ caseId, similarity: 0.9 - i / 100 })),
  caseIdsByAge: [...ids].sort(),
});
const article = (id: string, patternKey: string, caseIds: string[], status = 'active'): KnownArticle => ({ id, patternKey, status, caseIds });

describe('planArticles', () => {
  it('keys a new pattern by its category and oldest case, the same on every run', () => {
    const p = pattern('software', ['c3', 'c1', 'c2', 'c4', 'c5']);
    const first = planArticles([p], []);
    expect(first.articles).toEqual([{ pattern: p, articleId: undefined, patternKey: 'software:c1', overlap: 0 }]);
    expect(planArticles([p], []).articles[0]!.patternKey).toBe('software:c1');
  });

  it('keeps the article of a cluster that shifted but still overlaps by half or more, with its key', () => {
    const existing = [article('a1', 'software:c1', ['c1', 'c2', 'c3', 'c4', 'c5'])];
    // c1 left, c6 and c7 joined: Jaccard 4/7.
    const shifted = pattern('software', ['c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
    const plan = planArticles([shifted], existing);
    expect(plan.articles[0]).toMatchObject({ articleId: 'a1', patternKey: 'software:c1' });
    expect(plan.articles[0]!.overlap).toBeCloseTo(4 / 7);
    expect(plan.retire).toEqual([]);
  });

  it('makes a new article when the overlap is under one half, and retires the article left without a pattern', () => {
    const existing = [article('a1', 'software:c1', ['c1', 'c2', 'c3', 'c4', 'c5'])];
    const other = pattern('software', ['c1', 'c8', 'c9', 'c10', 'c11', 'c12']);
    const plan = planArticles([other], existing);
    // The oldest case's key is taken by a1, so the next oldest member names the pattern.
    expect(plan.articles[0]).toMatchObject({ articleId: undefined, patternKey: 'software:c10' });
    expect(plan.retire).toEqual(['a1']);
  });

  it('pairs each article with one pattern, the best overlap first', () => {
    const existing = [article('a1', 'hw:c1', ['c1', 'c2', 'c3', 'c4'])];
    const weak = pattern('hw', ['c1', 'c2', 'c3']); // 3/4
    const strong = pattern('hw', ['c1', 'c2', 'c3', 'c4', 'c5']); // 4/5
    const plan = planArticles([weak, strong], existing);
    expect(plan.articles.map((a) => [a.articleId, a.patternKey])).toEqual([
      [undefined, 'hw:c2'],
      ['a1', 'hw:c1'],
    ]);
  });

  it('revives a retired article whose cases come back, and never retires an article twice', () => {
    const existing = [article('a1', 'net:c1', ['c1', 'c2', 'c3', 'c4', 'c5'], 'retired'), article('a2', 'net:c9', ['c9', 'c10'], 'retired')];
    const plan = planArticles([pattern('net', ['c1', 'c2', 'c3', 'c4', 'c5'])], existing);
    expect(plan.articles[0]).toMatchObject({ articleId: 'a1', patternKey: 'net:c1' });
    expect(plan.retire).toEqual([]);
  });
});

describe('sourceFingerprint', () => {
  it('depends on the cases and their versions, not on their order', () => {
    const a = sourceFingerprint([
      { caseId: 'c1', version: 1 },
      { caseId: 'c2', version: 3 },
    ]);
    expect(
      sourceFingerprint([
        { caseId: 'c2', version: 3 },
        { caseId: 'c1', version: 1 },
      ]),
    ).toBe(a);
    expect(
      sourceFingerprint([
        { caseId: 'c1', version: 2 },
        { caseId: 'c2', version: 3 },
      ]),
    ).not.toBe(a);
    expect(sourceFingerprint([{ caseId: 'c1', version: 1 }])).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
