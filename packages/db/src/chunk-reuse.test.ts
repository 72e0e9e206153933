import { describe, expect, it } from '@jest/globals';
import { planChunks, type ExistingChunk } from './chunk-reuse.ts';
import { deterministicUuid } from './ids.ts';

const DOC = 'doc-1';
const rows = (hashes: string[]): ExistingChunk[] => hashes.map((hash, position) => ({ id: deterministicUuid(DOC, position, hash), position, hash }));
const next = (hashes: string[]) => hashes.map((hash, position) => ({ position, hash }));

describe('planChunks', () => {
  it('keeps every row of an unchanged document in place', () => {
    const existing = rows(['a', 'b', 'c']);
    const { planned, removedIds } = planChunks(DOC, existing, next(['a', 'b', 'c']));
    expect(planned.map((p) => [p.id, p.reused, p.moved])).toEqual(existing.map((e) => [e.id, true, false]));
    expect(removedIds).toEqual([]);
  });

  it('when one chunk is edited, only that chunk gets a new row and the old one is removed', () => {
    const existing = rows(['a', 'b', 'c']);
    const { planned, removedIds } = planChunks(DOC, existing, next(['a', 'B', 'c']));
    expect(planned.map((p) => p.reused)).toEqual([true, false, true]);
    expect(planned[1]!.id).toBe(deterministicUuid(DOC, 1, 'B'));
    expect(removedIds).toEqual([existing[1]!.id]);
  });

  it('when a paragraph is inserted above, the shifted chunks keep their rows (and vectors) at new positions', () => {
    const existing = rows(['a', 'b', 'c']);
    const { planned, removedIds } = planChunks(DOC, existing, next(['new', 'a', 'b', 'c']));
    expect(planned.map((p) => p.reused)).toEqual([false, true, true, true]);
    expect(planned.slice(1).map((p) => p.id)).toEqual(existing.map((e) => e.id));
    expect(planned.slice(1).every((p) => p.moved)).toBe(true);
    expect(removedIds).toEqual([]);
  });

  it('repeated text never gives two chunks the same id', () => {
    const existing = rows(['x', 'y', 'x']);
    const { planned, removedIds } = planChunks(DOC, existing, next(['x', 'x', 'x']));
    expect(new Set(planned.map((p) => p.id)).size).toBe(3);
    expect(planned.filter((p) => p.reused)).toHaveLength(2);
    expect(removedIds).toEqual([existing[1]!.id]);
  });

  it('a first version reuses nothing', () => {
    const { planned, removedIds } = planChunks(DOC, [], next(['a', 'b']));
    expect(planned.every((p) => !p.reused)).toBe(true);
    expect(removedIds).toEqual([]);
  });
});
