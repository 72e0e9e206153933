import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LanceDbVectorStore, type VectorRecord } from '../src/index.ts';
import { runVectorStoreContract } from './vector-store.contract.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbflow-lancedb-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

runVectorStoreContract('LanceDbVectorStore', (collection) => new LanceDbVectorStore({ dir, table: collection }));

function records(n: number, dims: number, tenantId = 'tenant-a'): VectorRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    vector: Array.from({ length: dims }, (_, k) => Math.sin(i * 7 + k) + (k === i % dims ? 2 : 0)),
    payload: { tenantId, knowledgeBaseId: 'kb-1', documentId: `doc-${i % 5}`, contentType: 'page' as const },
  }));
}

describe('LanceDbVectorStore on a shared directory', () => {
  it("a second store on the same directory sees the first one's writes and deletes at once", async () => {
    const table = `shared_${randomUUID().slice(0, 8)}`;
    const writer = new LanceDbVectorStore({ dir, table });
    const reader = new LanceDbVectorStore({ dir, table });
    try {
      await writer.ensureCollection(16);
      expect(await reader.count()).toBe(0);
      const batch = records(30, 16);
      await writer.upsert(batch);
      expect(await reader.count()).toBe(30);
      await reader.deleteByIds(batch.slice(0, 10).map((r) => r.id));
      expect(await writer.count()).toBe(20);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }
  });

  it('two stores upserting the same new ids at the same time never duplicate a row', async () => {
    const table = `race_${randomUUID().slice(0, 8)}`;
    const stores = [new LanceDbVectorStore({ dir, table }), new LanceDbVectorStore({ dir, table })];
    try {
      await Promise.all(stores.map((s) => s.ensureCollection(16)));
      const shared = records(40, 16);
      for (let round = 0; round < 4; round++) {
        const slice = shared.slice(round * 10, round * 10 + 10);
        await Promise.all(stores.map((s) => s.upsert(slice)));
      }
      const ids = await stores[0]!.listIds({ tenantId: 'tenant-a' });
      expect(ids).toHaveLength(40);
      expect(new Set(ids).size).toBe(40);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('optimize compacts the fragments left by many small upserts and keeps every row', async () => {
    const table = `optimize_${randomUUID().slice(0, 8)}`;
    const store = new LanceDbVectorStore({ dir, table });
    const db = await lancedb.connect(dir, { readConsistencyInterval: 0 });
    try {
      await store.ensureCollection(16);
      for (const batch of [records(5, 16), records(5, 16), records(5, 16), records(5, 16)]) await store.upsert(batch);
      const raw = await db.openTable(table);
      const before = (await raw.stats()).fragmentStats.numFragments;

      await store.optimize();

      const after = (await raw.stats()).fragmentStats.numFragments;
      expect(before).toBeGreaterThanOrEqual(4);
      expect(after).toBe(1);
      expect(await store.count()).toBe(20);
      raw.close();
    } finally {
      db.close();
      await store.close();
    }
  });
});
