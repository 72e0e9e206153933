import { describe, expect, it } from '@jest/globals';
import { FeatureCounter, finalizeHash, fnv1a } from './feature-hashing.ts';

describe('fnv1a', () => {
  it('matches the published 32-bit FNV-1a test vectors for ASCII', () => {
    const basis = 0x811c9dc5;
    expect(fnv1a(basis, '') >>> 0).toBe(0x811c9dc5);
    expect(fnv1a(basis, 'a') >>> 0).toBe(0xe40c292c);
    expect(fnv1a(basis, 'foobar') >>> 0).toBe(0xbf9cf968);
  });

  it('hashes a substring like the sliced string', () => {
    expect(fnv1a(1, 'xxfooxx', 2, 5)).toBe(fnv1a(1, 'foo'));
  });
});

describe('FeatureCounter', () => {
  it('counts like a Map through growth and after clear', () => {
    const counter = new FeatureCounter();
    for (let round = 0; round < 2; round++) {
      const expected = new Map<number, number>();
      for (let i = 0; i < 5000; i++) {
        const hash = finalizeHash(i % 1700);
        counter.add(hash);
        expected.set(hash, (expected.get(hash) ?? 0) + 1);
      }
      const actual = new Map<number, number>();
      counter.forEach((hash, count) => actual.set(hash, count));
      expect(counter.size).toBe(1700);
      expect(actual).toEqual(expected);
      counter.clear();
      expect(counter.size).toBe(0);
    }
  });
});
