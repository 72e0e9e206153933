import { describe, expect, it } from '@jest/globals';
import { embedBatches, VectorDiff } from './vector-drift.ts';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('VectorDiff', () => {
  it('finds vectors without a row and settled indexed rows without a vector, across pages', () => {
    const diff = new VectorDiff([id(1), id(2), id(3), id(9)]);
    diff.addChunks([
      { id: id(1), indexed: true, settled: true },
      { id: id(2), indexed: false, settled: false },
      { id: id(4), indexed: true, settled: true },
    ]);
    diff.addChunks([
      { id: id(5), indexed: true, settled: false },
      { id: id(6), indexed: false, settled: false },
      { id: id(3), indexed: true, settled: true },
    ]);
    expect(diff.result()).toEqual({ orphaned: [id(9)], missing: [id(4)] });
  });

  it('leaves rows indexed after the cutoff alone: their vector may postdate the listing', () => {
    const diff = new VectorDiff([]);
    diff.addChunks([{ id: id(1), indexed: true, settled: false }]);
    expect(diff.result()).toEqual({ orphaned: [], missing: [] });
  });

  it('matches ids whatever their case and reports orphans as the store spelled them', () => {
    const diff = new VectorDiff([id(1).toUpperCase(), 'A0000000-0000-4000-8000-00000000000F']);
    diff.addChunks([{ id: id(1), indexed: true, settled: true }]);
    expect(diff.result()).toEqual({ orphaned: ['A0000000-0000-4000-8000-00000000000F'], missing: [] });
  });

  it('is empty when both sides agree, and everything is orphaned without rows', () => {
    const agree = new VectorDiff([id(1), id(2)]);
    agree.addChunks([
      { id: id(2), indexed: true, settled: true },
      { id: id(1), indexed: true, settled: true },
    ]);
    expect(agree.result()).toEqual({ orphaned: [], missing: [] });
    expect(new VectorDiff([id(7), id(8)]).result().orphaned.sort()).toEqual([id(7), id(8)]);
  });
});

describe('embedBatches', () => {
  it('makes one job per tenant and weighting, at most max documents each, without duplicates', () => {
    const docs = [
      ...[5, 4, 3, 2, 1].map((n) => ({ tenantId: 't1', documentId: `d${n}`, contentType: 'record' })),
      { tenantId: 't1', documentId: 'd1', contentType: 'record' },
      { tenantId: 't1', documentId: 'a1', contentType: 'article' },
      { tenantId: 't2', documentId: 'p1', contentType: 'page' },
      { tenantId: 't2', documentId: 'c1', contentType: 'case' },
    ];
    expect(embedBatches(docs, 2)).toEqual([
      { tenantId: 't1', weighting: 'article', documentIds: ['a1'] },
      { tenantId: 't1', weighting: 'none', documentIds: ['d1', 'd2'] },
      { tenantId: 't1', weighting: 'none', documentIds: ['d3', 'd4'] },
      { tenantId: 't1', weighting: 'none', documentIds: ['d5'] },
      { tenantId: 't2', weighting: 'none', documentIds: ['c1', 'p1'] },
    ]);
  });

  it('fills jobs up to the catalog limit of 1000 documents', () => {
    const docs = Array.from({ length: 2500 }, (_, i) => ({ tenantId: 't', documentId: `d${String(i).padStart(4, '0')}`, contentType: 'record' }));
    expect(embedBatches(docs).map((b) => b.documentIds.length)).toEqual([1000, 1000, 500]);
    expect(embedBatches([])).toEqual([]);
  });
});
