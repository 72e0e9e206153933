import { describe, expect, it } from '@jest/globals';
import { VectorStoreError } from './errors.ts';
import { normalizeFilter, prepareRecords } from './validation.ts';

const payload = { tenantId: 't', knowledgeBaseId: 'k', documentId: 'd', contentType: 'page' as const };
const ID = '6f1c2a9e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';

describe('input validation', () => {
  it('keeps the last record of a repeated id and lowercases ids', () => {
    const out = prepareRecords(
      [
        { id: ID.toUpperCase(), vector: [1, 0], payload },
        { id: ID, vector: [0, 1], payload: { ...payload, documentId: 'd2' } },
      ],
      2,
    );
    expect(out).toEqual([{ id: ID, vector: [0, 1], payload: { ...payload, documentId: 'd2' } }]);
  });

  it('drops payload fields the store does not know', () => {
    const [out] = prepareRecords([{ id: ID, vector: [1], payload: { ...payload, secret: 'x' } as typeof payload }], 1);
    expect(Object.keys(out!.payload).sort()).toEqual(['contentType', 'documentId', 'knowledgeBaseId', 'tenantId']);
  });

  it('refuses NaN, infinite and all-zero vectors as permanent errors', () => {
    for (const vector of [[Number.NaN, 1], [Infinity, 0], [0, 0], []]) {
      let caught: unknown;
      try {
        prepareRecords([{ id: ID, vector, payload }], undefined);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(VectorStoreError);
      expect((caught as VectorStoreError).retryable).toBe(false);
    }
  });

  it('requires a tenant where the caller must scope, and treats empty contentTypes as all types', () => {
    expect(() => normalizeFilter({ knowledgeBaseId: 'k' }, true)).toThrow(/tenantId/);
    expect(normalizeFilter({ knowledgeBaseId: 'k' }, false)).toEqual({ knowledgeBaseId: 'k' });
    expect(normalizeFilter({ tenantId: 't', contentTypes: [] }, true)).toEqual({ tenantId: 't' });
    expect(() => normalizeFilter({ tenantId: 't', contentTypes: ['pdf' as never] }, true)).toThrow(/contentType/);
  });
});
