import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ID_SLICES, idSliceOf, VectorStoreError, type VectorPayload, type VectorRecord, type VectorStore } from '../src/index.ts';

/** Builds a store on a collection that no other test uses. */
export type VectorStoreFactory = (collection: string) => VectorStore | Promise<VectorStore>;

const DIMS = 8;

/** The i-th basis vector: orthogonal to every other, cosine 1 with itself. */
function axis(i: number): number[] {
  return Array.from({ length: DIMS }, (_, k) => (k === i ? 1 : 0));
}

/** `axis(i)` tilted towards `axis(j)` by `t` (cosine with axis(i) is 1/sqrt(1+t^2)). */
function tilted(i: number, j: number, t: number): number[] {
  return axis(i).map((x, k) => (k === j ? t : x));
}

function payload(over: Partial<VectorPayload> = {}): VectorPayload {
  return { tenantId: 'tenant-a', knowledgeBaseId: 'kb-1', documentId: 'doc-1', contentType: 'page', ...over };
}

function record(vector: number[], over: Partial<VectorPayload> = {}, id: string = randomUUID()): VectorRecord {
  return { id, vector, payload: payload(over) };
}

async function rejection(promise: Promise<unknown>): Promise<VectorStoreError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VectorStoreError);
    return error as VectorStoreError;
  }
  throw new Error('expected the call to fail');
}

const sorted = (ids: string[]) => [...ids].sort();

/**
 * The behaviour every VectorStore adapter must have. Each test gets a fresh
 * collection; the factory's owner removes the collections (or their directory)
 * afterwards.
 */
export function runVectorStoreContract(name: string, factory: VectorStoreFactory): void {
  describe(`${name} (VectorStore contract)`, () => {
    const opened: VectorStore[] = [];

    async function freshStore(collection = `contract_${randomUUID().slice(0, 8)}`): Promise<VectorStore> {
      const store = await factory(collection);
      opened.push(store);
      return store;
    }

    async function readyStore(): Promise<VectorStore> {
      const store = await freshStore();
      await store.ensureCollection(DIMS);
      return store;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('search on an empty collection returns no hits', async () => {
      const store = await readyStore();
      expect(await store.search(axis(0), { tenantId: 'tenant-a' }, 5)).toEqual([]);
      expect(await store.count()).toBe(0);
      expect(await store.listIds({ tenantId: 'tenant-a' })).toEqual([]);
    });

    it('before ensureCollection, reads answer empty instead of failing', async () => {
      const store = await freshStore();
      expect(await store.search(axis(0), { tenantId: 'tenant-a' }, 5)).toEqual([]);
      expect(await store.count({ tenantId: 'tenant-a' })).toBe(0);
      expect(await store.listIds({ tenantId: 'tenant-a' })).toEqual([]);
    });

    it('ensureCollection twice, and from two stores at once, leaves one working collection', async () => {
      const collection = `contract_${randomUUID().slice(0, 8)}`;
      const [first, second] = await Promise.all([freshStore(collection), freshStore(collection)]);
      await Promise.all([first.ensureCollection(DIMS), second.ensureCollection(DIMS)]);
      await first.ensureCollection(DIMS);
      const r = record(axis(1));
      await first.upsert([r]);
      expect(await second.listIds({ tenantId: 'tenant-a' })).toEqual([r.id]);
      expect(await second.count()).toBe(1);
    });

    it('ensureCollection with another dimension fails with vector_dimension_mismatch', async () => {
      const collection = `contract_${randomUUID().slice(0, 8)}`;
      await (await freshStore(collection)).ensureCollection(DIMS);
      const other = await freshStore(collection);
      const error = await rejection(other.ensureCollection(DIMS * 2));
      expect(error.code).toBe('vector_dimension_mismatch');
      expect(error.retryable).toBe(false);
    });

    it('upsert then search returns the nearest first, with score ~1 for the identical vector', async () => {
      const store = await readyStore();
      const same = record(axis(0));
      const close = record(tilted(0, 1, 0.5));
      const far = record(tilted(1, 0, 0.2));
      const orthogonal = record(axis(2));
      const opposite = record(axis(0).map((x) => -x));
      await store.upsert([far, opposite, same, orthogonal, close]);

      const hits = await store.search(axis(0), { tenantId: 'tenant-a' }, 10);

      expect(hits.map((h) => h.id)).toEqual([same.id, close.id, far.id, orthogonal.id, opposite.id]);
      expect(hits[0]!.score).toBeCloseTo(1, 5);
      expect(hits[1]!.score).toBeCloseTo(1 / Math.sqrt(1.25), 4);
      expect(hits[3]!.score).toBeCloseTo(0, 5);
      expect(hits[4]!.score).toBeCloseTo(-1, 5);
      expect(hits[0]!.payload).toEqual(same.payload);
      expect((await store.search(axis(0), { tenantId: 'tenant-a' }, 2)).map((h) => h.id)).toEqual([same.id, close.id]);
    });

    it('re-upserting the same ids replaces the vectors and payloads without adding rows', async () => {
      const store = await readyStore();
      const records = [record(axis(0)), record(axis(1)), record(axis(2))];
      await store.upsert(records);
      await store.upsert(records);
      expect(await store.count()).toBe(3);

      const moved = { ...records[0]!, vector: axis(5), payload: payload({ documentId: 'doc-2' }) };
      await store.upsert([moved]);

      expect(await store.count()).toBe(3);
      const [top] = await store.search(axis(5), { tenantId: 'tenant-a' }, 1);
      expect(top).toMatchObject({ id: moved.id, payload: { documentId: 'doc-2' } });
      expect(top!.score).toBeCloseTo(1, 5);
    });

    it('a repeated id within one upsert keeps the last record', async () => {
      const store = await readyStore();
      const id = randomUUID();
      await store.upsert([record(axis(0), { documentId: 'first' }, id), record(axis(3), { documentId: 'last' }, id)]);
      expect(await store.count()).toBe(1);
      const [top] = await store.search(axis(3), { tenantId: 'tenant-a' }, 5);
      expect(top).toMatchObject({ id, payload: { documentId: 'last' } });
    });

    it("tenant A's search never returns tenant B's vectors, even when they are closer", async () => {
      const store = await readyStore();
      const mine = [record(axis(4)), record(axis(5)), record(axis(6))];
      // Forty of B's vectors sit right on the query: a post-filtered top-k would come back short.
      const theirs = Array.from({ length: 40 }, (_, i) => record(tilted(0, 1, i / 100), { tenantId: 'tenant-b' }));
      await store.upsert([...theirs, ...mine]);

      const hits = await store.search(axis(0), { tenantId: 'tenant-a' }, 3);

      expect(sorted(hits.map((h) => h.id))).toEqual(sorted(mine.map((r) => r.id)));
      expect(hits.every((h) => h.payload.tenantId === 'tenant-a')).toBe(true);
      const theirHits = await store.search(axis(0), { tenantId: 'tenant-b' }, 50);
      expect(theirHits).toHaveLength(40);
      expect(theirHits.some((h) => h.payload.tenantId !== 'tenant-b')).toBe(false);
    });

    it('filter values are data, not SQL: a quote-laden tenant id matches only itself', async () => {
      const store = await readyStore();
      const quoted = record(axis(0), { tenantId: "o'brien" });
      const other = record(axis(0), { tenantId: 'tenant-b' });
      await store.upsert([quoted, other]);

      expect((await store.search(axis(0), { tenantId: "o'brien" }, 5)).map((h) => h.id)).toEqual([quoted.id]);
      expect(await store.search(axis(0), { tenantId: "x' OR '1'='1" }, 5)).toEqual([]);
      expect(await store.count({ tenantId: "tenant-b' OR `tenantId` <> 'none" })).toBe(0);
    });

    it('knowledgeBaseId, documentId and contentTypes narrow the search', async () => {
      const store = await readyStore();
      const page = record(axis(0), { knowledgeBaseId: 'kb-1', contentType: 'page', documentId: 'doc-1' });
      const kase = record(tilted(0, 1, 0.1), { knowledgeBaseId: 'kb-1', contentType: 'case', documentId: 'doc-2' });
      const article = record(tilted(0, 2, 0.2), { knowledgeBaseId: 'kb-2', contentType: 'article', documentId: 'doc-3' });
      await store.upsert([page, kase, article]);
      const ids = async (filter: Parameters<VectorStore['search']>[1]) => (await store.search(axis(0), filter, 10)).map((h) => h.id);

      expect(await ids({ tenantId: 'tenant-a', knowledgeBaseId: 'kb-1' })).toEqual([page.id, kase.id]);
      expect(await ids({ tenantId: 'tenant-a', knowledgeBaseId: 'kb-2' })).toEqual([article.id]);
      expect(await ids({ tenantId: 'tenant-a', contentTypes: ['case', 'article'] })).toEqual([kase.id, article.id]);
      expect(await ids({ tenantId: 'tenant-a', knowledgeBaseId: 'kb-1', contentTypes: ['article'] })).toEqual([]);
      expect(await ids({ tenantId: 'tenant-a', documentId: 'doc-2' })).toEqual([kase.id]);
      expect(await ids({ tenantId: 'tenant-a', contentTypes: [] })).toEqual([page.id, kase.id, article.id]);
      expect(await store.count({ tenantId: 'tenant-a', contentTypes: ['page', 'case'] })).toBe(2);
      expect(await store.count({ knowledgeBaseId: 'kb-2' })).toBe(1);
    });

    it('deleteDocumentVectors removes the stale chunks of one document and keeps keepIds', async () => {
      const store = await readyStore();
      const kept = [record(axis(0)), record(axis(1))];
      const stale = [record(axis(2)), record(axis(3))];
      const otherDoc = record(axis(4), { documentId: 'doc-2' });
      const otherTenantSameDoc = record(axis(5), { tenantId: 'tenant-b' });
      await store.upsert([...kept, ...stale, otherDoc, otherTenantSameDoc]);

      const removed = await store.deleteDocumentVectors(
        'tenant-a',
        'doc-1',
        kept.map((r) => r.id),
      );

      if (removed !== undefined) expect(removed).toBe(2);
      expect(sorted(await store.listIds({ tenantId: 'tenant-a' }))).toEqual(sorted([...kept, otherDoc].map((r) => r.id)));
      expect(await store.listIds({ tenantId: 'tenant-b' })).toEqual([otherTenantSameDoc.id]);
    });

    it('deleteDocumentVectors without keepIds removes every vector of the document', async () => {
      const store = await readyStore();
      const doc = [record(axis(0)), record(axis(1))];
      const otherDoc = record(axis(2), { documentId: 'doc-2' });
      await store.upsert([...doc, otherDoc]);

      const removed = await store.deleteDocumentVectors('tenant-a', 'doc-1');

      if (removed !== undefined) expect(removed).toBe(2);
      expect(await store.listIds({ tenantId: 'tenant-a' })).toEqual([otherDoc.id]);
      expect(await store.deleteDocumentVectors('tenant-a', 'doc-1')).not.toBeGreaterThan(0);
    });

    it('deleteByIds removes exactly those ids and ignores unknown ones', async () => {
      const store = await readyStore();
      const records = [record(axis(0)), record(axis(1)), record(axis(2), { tenantId: 'tenant-b' })];
      await store.upsert(records);

      await store.deleteByIds([records[0]!.id, records[2]!.id, randomUUID()]);
      await store.deleteByIds([]);

      expect(await store.count()).toBe(1);
      expect(await store.listIds({ tenantId: 'tenant-a' })).toEqual([records[1]!.id]);
      expect(await store.listIds({ tenantId: 'tenant-b' })).toEqual([]);
    });

    it('listIds returns every matching id, beyond any default page size', async () => {
      const store = await readyStore();
      const mine = Array.from({ length: 25 }, (_, i) => record(tilted(i % DIMS, (i + 1) % DIMS, i / 25)));
      const theirs = Array.from({ length: 5 }, (_, i) => record(axis(i), { tenantId: 'tenant-b' }));
      const otherKb = record(axis(7), { knowledgeBaseId: 'kb-9' });
      await store.upsert([...mine, ...theirs, otherKb]);

      expect(sorted(await store.listIds({ tenantId: 'tenant-a', knowledgeBaseId: 'kb-1' }))).toEqual(sorted(mine.map((r) => r.id)));
      expect(await store.listIds({ tenantId: 'tenant-a' })).toHaveLength(26);
      expect(await store.count()).toBe(31);
      expect(await store.count({ tenantId: 'tenant-b' })).toBe(5);
    });

    it('listIds by slice returns each id in exactly one of the 16 slices', async () => {
      const store = await readyStore();
      // Ids that start with every hex digit, one of them written in uppercase.
      const records = '0123456789abcdef'.split('').map((d, i) => record(axis(i % DIMS), {}, `${d}${randomUUID().slice(1)}`));
      records.push(record(axis(1), {}, `F${randomUUID().slice(1).toUpperCase()}`));
      await store.upsert([...records, record(axis(2), { tenantId: 'tenant-b' }, `a${randomUUID().slice(1)}`)]);
      const bySlice = await Promise.all(ID_SLICES.map(async (slice) => [slice, await store.listIds({ tenantId: 'tenant-a' }, slice)] as const));
      for (const [slice, ids] of bySlice) expect(ids.every((id) => idSliceOf(id) === slice && id.startsWith(slice))).toBe(true);
      expect(sorted(bySlice.flatMap(([, ids]) => ids))).toEqual(sorted(await store.listIds({ tenantId: 'tenant-a' })));
      expect(bySlice.flatMap(([, ids]) => ids)).toHaveLength(17);
      expect(bySlice.find(([slice]) => slice === 'f')![1]).toHaveLength(2);
    });

    it('ids come back in lowercase whatever case they were written in', async () => {
      const store = await readyStore();
      const id = randomUUID();
      await store.upsert([record(axis(0), {}, id.toUpperCase())]);
      await store.upsert([record(axis(0), {}, id)]);
      expect(await store.listIds({ tenantId: 'tenant-a' })).toEqual([id]);
      await store.deleteByIds([id.toUpperCase()]);
      expect(await store.count()).toBe(0);
    });

    it('rejects bad input before it reaches the backend', async () => {
      const store = await readyStore();
      expect((await rejection(store.upsert([record(axis(0), {}, 'chunk-1')]))).code).toBe('vector_invalid_input');
      expect((await rejection(store.upsert([record([1, 2, 3])]))).code).toBe('vector_dimension_mismatch');
      expect((await rejection(store.upsert([record(axis(0), { contentType: 'video' as never })]))).code).toBe('vector_invalid_input');
      expect((await rejection(store.search(axis(0), { tenantId: '' }, 5))).code).toBe('vector_invalid_input');
      expect((await rejection(store.search(axis(0), { tenantId: 'tenant-a' }, 0))).code).toBe('vector_invalid_input');
      expect((await rejection(store.search(new Array<number>(DIMS).fill(0), { tenantId: 'tenant-a' }, 5))).code).toBe('vector_invalid_input');
      expect((await rejection(store.deleteByIds(["' OR 1=1 --"]))).code).toBe('vector_invalid_input');
      expect(await store.count()).toBe(0);
    });

    it('health resolves, and after close every call fails as vector_store_closed', async () => {
      const store = await readyStore();
      await store.health();
      await store.close();
      await store.close();
      const error = await rejection(store.count());
      expect(error.code).toBe('vector_store_closed');
    });
  });
}
