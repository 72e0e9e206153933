import { describe, expect, it } from '@jest/globals';
import { collapseNearDuplicates, NEAR_DUPLICATE_JACCARD, SHINGLE_WORDS } from './near-duplicates.ts';
import { jaccard, shinglesOf, wordsOf } from './text-similarity.ts';

/** A 200-word passage of distinct words (w0 ... w199), so each edit's effect is exact. */
const words = Array.from({ length: 200 }, (_, i) => `w${i}`);
const passage = (edits: number) => words.map((w, i) => (i % 40 === 20 && i / 40 < edits ? `changed${i}` : w)).join(' ');

describe('text similarity', () => {
  it('splits words case- and punctuation-insensitively, NFKC-normalized', () => {
    expect(wordsOf('Read FILES with open(), ﬁne!')).toEqual(['read', 'files', 'with', 'open', 'fine']);
  });

  it('makes one shingle of a text shorter than the shingle size and none of an empty one', () => {
    expect(shinglesOf(['a', 'b'], 3)).toEqual(new Set(['a b']));
    expect(shinglesOf([], 3).size).toBe(0);
    expect(shinglesOf(['a', 'b', 'c', 'd'], 3)).toEqual(new Set(['a b c', 'b c d']));
  });

  it('computes Jaccard as shared over union, 0 for empty sets', () => {
    expect(jaccard(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd']))).toBeCloseTo(0.5, 10);
    expect(jaccard(new Set(), new Set())).toBe(0);
  });
});

describe('collapseNearDuplicates', () => {
  it('keeps the best-ranked of chunks with the same hash, whatever their text', () => {
    const ranked = [
      { id: 'a', text: 'first', hash: 'h1' },
      { id: 'b', text: 'something else', hash: 'h2' },
      { id: 'c', text: 'first (other URL)', hash: 'h1' },
    ];
    const { kept, collapsed } = collapseNearDuplicates(ranked);
    expect(kept.map((k) => k.id)).toEqual(['a', 'b']);
    expect(collapsed).toBe(1);
  });

  it('treats a few edited words in a long passage as the same passage, and more as a different one', () => {
    const threeEdits = shinglesOf(wordsOf(passage(3)), SHINGLE_WORDS);
    const fourEdits = shinglesOf(wordsOf(passage(4)), SHINGLE_WORDS);
    const original = shinglesOf(wordsOf(passage(0)), SHINGLE_WORDS);
    expect(jaccard(original, threeEdits)).toBeGreaterThanOrEqual(NEAR_DUPLICATE_JACCARD);
    expect(jaccard(original, fourEdits)).toBeLessThan(NEAR_DUPLICATE_JACCARD);

    const { kept } = collapseNearDuplicates([
      { id: 'original', text: passage(0) },
      { id: 'three-edits', text: passage(3) },
      { id: 'four-edits', text: passage(4) },
    ]);
    expect(kept.map((k) => k.id)).toEqual(['original', 'four-edits']);
  });

  it('does not collapse passages that share their words in another order', () => {
    const a = 'the worker retries the job after the lock expires and the queue is paused';
    const b = 'the queue is paused and the lock expires after the worker retries the job';
    expect(collapseNearDuplicates([{ text: a }, { text: b }]).kept).toHaveLength(2);
  });

  it('compares whitespace, case and punctuation away', () => {
    const { kept } = collapseNearDuplicates([
      { id: 1, text: 'Install the package with pip, then import it.' },
      { id: 2, text: 'install   the package with PIP then import it' },
    ]);
    expect(kept.map((k) => k.id)).toEqual([1]);
  });

  it('returns nothing for nothing', () => {
    expect(collapseNearDuplicates([])).toEqual({ kept: [], collapsed: 0 });
  });
});
