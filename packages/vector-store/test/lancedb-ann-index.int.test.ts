import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as lancedb from '@lancedb/lancedb';
import { LanceDbVectorStore, type VectorRecord } from '../src/index.ts';

const DIMS = 32;
// PQ training needs 256 rows at least; the threshold is lowered from 50,000 to that.
const MIN_ROWS = 256;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbflow-lancedb-ann-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random vectors around 8 centres, so IVF has clusters to find. */
function vectorAt(i: number): number[] {
  const centre = i % 8;
  return Array.from({ length: DIMS }, (_, k) => (k % 8 === centre ? 3 : 0) + Math.sin(i * 12.9898 + k * 78.233));
}

function rows(from: number, to: number, tenantId: string): VectorRecord[] {
  return Array.from({ length: to - from }, (_, n) => ({
    id: randomUUID(),
    vector: vectorAt(from + n),
    payload: { tenantId, knowledgeBaseId: 'kb-1', documentId: `doc-${(from + n) % 7}`, contentType: 'page' as const },
  }));
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k]! * b[k]!;
    na += a[k]! * a[k]!;
    nb += b[k]! * b[k]!;
  }
  return dot / Math.sqrt(na * nb);
}

describe('LanceDbVectorStore ANN index (compact with KBFLOW_VECTOR_INDEX_MIN_ROWS lowered)', () => {
  it('builds no index below the threshold, an IVF_PQ one from it, and still ranks within the tenant filter', async () => {
    const store = new LanceDbVectorStore({ dir, table: `ann_${randomUUID().slice(0, 8)}`, indexMinRows: MIN_ROWS });
    try {
      await store.ensureCollection(DIMS);
      const tenantA = rows(0, 200, 'tenant-a');
      await store.upsert(tenantA);
      expect(await store.compact()).toBe(true);
      expect(await store.vectorIndexStats()).toBeUndefined();
      expect(await store.scalarIndexColumns()).toEqual([]);

      // Another tenant's 30 rows lie among tenant A's clusters (same generator).
      const tenantB = rows(1000, 1030, 'tenant-b');
      tenantA.push(...rows(200, 400, 'tenant-a'));
      await store.upsert([...tenantA.slice(200), ...tenantB]);
      await store.compact();
      expect(await store.vectorIndexStats()).toEqual({ indexedRows: 430, unindexedRows: 0, type: 'IVF_PQ' });
      // The prefilter's columns are bitmap-indexed with it.
      expect(await store.scalarIndexColumns()).toEqual(['knowledgeBaseId', 'tenantId']);
      // A second compaction keeps the index instead of building another.
      expect(await store.ensureVectorIndex()).toBe(false);

      // Tenant A: the index's top 10 against the exact cosine ranking.
      const query = vectorAt(3);
      const exact = tenantA.map((r) => ({ id: r.id, score: cosine(query, r.vector) })).sort((x, y) => y.score - x.score);
      const hits = await store.search(query, { tenantId: 'tenant-a', knowledgeBaseId: 'kb-1' }, 10);
      expect(hits).toHaveLength(10);
      expect(hits.every((h) => h.payload.tenantId === 'tenant-a')).toBe(true);
      expect(hits[0]!.id).toBe(exact[0]!.id);
      expect(hits[0]!.score).toBeCloseTo(1, 4);
      const top10 = new Set(exact.slice(0, 10).map((e) => e.id));
      expect(hits.filter((h) => top10.has(h.id)).length).toBeGreaterThanOrEqual(9);

      // Tenant B (30 of 430 rows): the filter applies before the top-k cut,
      // so asking for 50 returns all 30 of its rows and none of tenant A's,
      // even though tenant A's vectors are nearer in most partitions.
      const bHits = await store.search(query, { tenantId: 'tenant-b', knowledgeBaseId: 'kb-1' }, 50);
      expect(new Set(bHits.map((h) => h.id))).toEqual(new Set(tenantB.map((r) => r.id)));
      const bExact = tenantB.map((r) => ({ id: r.id, score: cosine(query, r.vector) })).sort((x, y) => y.score - x.score);
      expect(bHits[0]!.id).toBe(bExact[0]!.id);

      // Rows written after the index are found at once (scanned flat), and
      // the next compaction folds them into the index.
      const late = rows(2000, 2005, 'tenant-c');
      await store.upsert(late);
      const cHits = await store.search(late[2]!.vector, { tenantId: 'tenant-c', knowledgeBaseId: 'kb-1' }, 3);
      expect(cHits[0]!.id).toBe(late[2]!.id);
      expect(cHits.every((h) => h.payload.tenantId === 'tenant-c')).toBe(true);
      await store.compact();
      expect(await store.vectorIndexStats()).toEqual({ indexedRows: 435, unindexedRows: 0, type: 'IVF_PQ' });
      expect((await store.search(late[2]!.vector, { tenantId: 'tenant-c', knowledgeBaseId: 'kb-1' }, 1))[0]!.id).toBe(late[2]!.id);
    } finally {
      await store.close();
    }
  });

  it('returns every row of a small tenant whose vectors lie in partitions far from the query', async () => {
    const store = new LanceDbVectorStore({ dir, table: `ann_far_${randomUUID().slice(0, 8)}`, indexMinRows: MIN_ROWS });
    try {
      await store.ensureCollection(DIMS);
      // 3,000 rows of tenant A over 8 clusters (about 55 IVF partitions);
      // tenant D's 12 rows all sit in the cluster of centre 7.
      const tenantD = Array.from({ length: 12 }, (_, n) => ({ ...rows(0, 1, 'tenant-d')[0]!, vector: vectorAt(5000 + n * 8 + 7) }));
      await store.upsert([...rows(0, 3000, 'tenant-a'), ...tenantD]);
      await store.compact();
      expect((await store.vectorIndexStats())?.type).toBe('IVF_PQ');
      // The query sits in centre 0's cluster, the opposite corner from tenant D's rows.
      const query = Array.from({ length: DIMS }, (_, k) => (k % 8 === 0 ? 3 : 0));
      const hits = await store.search(query, { tenantId: 'tenant-d', knowledgeBaseId: 'kb-1' }, 10);
      expect(hits).toHaveLength(10);
      expect(hits.every((h) => h.payload.tenantId === 'tenant-d')).toBe(true);
      const exact = tenantD.map((r) => ({ id: r.id, score: cosine(query, r.vector) })).sort((x, y) => y.score - x.score);
      expect(new Set(hits.map((h) => h.id))).toEqual(new Set(exact.slice(0, 10).map((e) => e.id)));
    } finally {
      await store.close();
    }
  }, 60_000);

  it('keeps its caches within the configured bounds', async () => {
    const table = `ann_cache_${randomUUID().slice(0, 8)}`;
    const writer = new LanceDbVectorStore({ dir, table, indexMinRows: MIN_ROWS });
    const bounded = new LanceDbVectorStore({ dir, table, indexCacheMb: 1, metadataCacheMb: 1 });
    try {
      await writer.ensureCollection(DIMS);
      await writer.upsert(rows(0, 3000, 'tenant-a'));
      await writer.compact();
      await bounded.ensureCollection(DIMS);
      for (let i = 0; i < 40; i++) await bounded.search(vectorAt(i * 37), { tenantId: 'tenant-a', knowledgeBaseId: 'kb-1' }, 10);
      // Something is cached in this store's session (so the connection uses it),
      // within the bounds. Whether the bound holds back a large index is
      // measured by `./kbflow bench` (resident memory at 100,000 chunks).
      const { bytes, items } = bounded.cacheStats();
      expect(items).toBeGreaterThan(0);
      expect(bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    } finally {
      await bounded.close();
      await writer.close();
    }
  }, 60_000);

  it("adds the filter columns' bitmap indices to a table indexed before they existed, and still filters by them", async () => {
    const table = `ann_old_${randomUUID().slice(0, 8)}`;
    const store = new LanceDbVectorStore({ dir, table, indexMinRows: MIN_ROWS });
    try {
      await store.ensureCollection(DIMS);
      const tenantA = rows(0, 300, 'tenant-a');
      const tenantB = rows(300, 320, 'tenant-b');
      await store.upsert([...tenantA, ...tenantB]);
      // What an earlier kbflow left behind: the vector index alone.
      const db = await lancedb.connect(dir);
      await (await db.openTable(table)).createIndex('vector', { config: lancedb.Index.ivfPq({ distanceType: 'cosine' }) });
      db.close();
      expect(await store.scalarIndexColumns()).toEqual([]);
      expect(await store.compact()).toBe(true);
      expect(await store.scalarIndexColumns()).toEqual(['knowledgeBaseId', 'tenantId']);
      expect((await store.vectorIndexStats())?.type).toBe('IVF_PQ');
      const hits = await store.search(vectorAt(1), { tenantId: 'tenant-b', knowledgeBaseId: 'kb-1' }, 50);
      expect(new Set(hits.map((h) => h.id))).toEqual(new Set(tenantB.map((r) => r.id)));
      expect(await store.search(vectorAt(1), { tenantId: 'tenant-b', knowledgeBaseId: 'kb-2' }, 50)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
