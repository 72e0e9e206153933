import { describe, expect, it } from '@jest/globals';
import { reciprocalRankFusion, RRF_K } from './rank-fusion.ts';

describe('reciprocalRankFusion', () => {
  it('ranks an id found by both lists above ids found by one', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['d', 'b', 'e'],
    ]);
    expect(fused[0]!.id).toBe('b');
    expect(fused[0]!.score).toBeCloseTo(2 / (RRF_K + 2), 10);
  });

  it('keeps every id once and sorts by score, then id', () => {
    const fused = reciprocalRankFusion([['x', 'y'], ['y', 'z'], []]);
    expect(fused.map((f) => f.id)).toEqual(['y', 'x', 'z']);
    expect(fused.find((f) => f.id === 'x')!.score).toBeCloseTo(1 / (RRF_K + 1), 10);
  });

  it('returns nothing for nothing', () => {
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });
});
