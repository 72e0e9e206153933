import { describe, expect, it } from '@jest/globals';
import { embedJobId } from './vectorization-sweep.processor.ts';

describe('embedJobId', () => {
  const batch = { tenantId: 't1', weighting: 'none' as const, documentIds: ['d1', 'd2'] };

  it('is the same for a redelivered sweep, so BullMQ adds its embed jobs once', () => {
    expect(embedJobId('repeat:vectorization-sweep:1700000000000', batch)).toBe(embedJobId('repeat:vectorization-sweep:1700000000000', { ...batch }));
  });

  it('differs per sweep and per batch, so the next sweep retries a batch that failed', () => {
    const ids = new Set([
      embedJobId('repeat:vectorization-sweep:1', batch),
      embedJobId('repeat:vectorization-sweep:2', batch),
      embedJobId('repeat:vectorization-sweep:1', { ...batch, documentIds: ['d1'] }),
      embedJobId('repeat:vectorization-sweep:1', { ...batch, weighting: 'article' }),
      embedJobId('repeat:vectorization-sweep:1', { ...batch, tenantId: 't2' }),
    ]);
    expect(ids.size).toBe(5);
  });

  it('has no colon, which BullMQ reserves in custom ids', () => {
    expect(embedJobId('repeat:vectorization-sweep:1', batch)).toMatch(/^sweep-repeat-vectorization-sweep-1-[0-9a-f]{16}$/);
  });
});
