// deleteVectors on a real LanceDB store in a temp dir: the listed chunk ids
// go, and so does anything still filed under a listed document (a vector
// whose chunk id was never recorded); other documents and tenants keep theirs.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import type { JobContext } from '@kbflow/queues';
import { LanceDbVectorStore, type VectorRecord } from '@kbflow/vector-store';
import type { Job } from 'bullmq';
import { deleteVectors } from './delete-vectors.processor.ts';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER_TENANT = '44444444-4444-4444-8444-444444444444';
const KB = '22222222-2222-4222-8222-222222222222';
const log = createLogger('delete-vectors-test', 'silent');
// deleteVectors reads only the logger from its context.
const ctx = { job: { id: 'delete-vectors-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'delete-vectors-test' } satisfies JobContext;
const embedder = new HashingEmbedder();

let lanceDir: string;
let lance: LanceDbVectorStore;

/** `n` vectors filed under a new document of `tenantId`; returns the document id and the vector ids. */
async function upsertDocument(n: number, tenantId = TENANT): Promise<{ documentId: string; ids: string[] }> {
  const documentId = randomUUID();
  const ids = Array.from({ length: n }, () => randomUUID());
  const vectors = await embedder.embed(ids.map((id) => `chunk ${id}`));
  const records: VectorRecord[] = ids.map((id, i) => ({
    id,
    vector: vectors[i]!,
    payload: { tenantId, knowledgeBaseId: KB, documentId, contentType: 'page' },
  }));
  await lance.upsert(records);
  return { documentId, ids };
}

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-delete-vectors-'));
  lance = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  await lance.ensureCollection(embedder.dimensions);
});

afterAll(async () => {
  await lance.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('deleteVectors', () => {
  it('removes the listed chunk ids and every vector still filed under the listed documents, and nothing else', async () => {
    const page = await upsertDocument(3);
    const deletedDoc = await upsertDocument(2);
    const kept = await upsertDocument(2);
    const otherTenant = await upsertDocument(1, OTHER_TENANT);

    const result = await deleteVectors({ tenantId: TENANT, chunkIds: [page.ids[0]!], documentIds: [deletedDoc.documentId] }, ctx, { vectors: lance });

    expect(result).toEqual({ chunks: 1, documents: 1 });
    expect((await lance.listIds({ tenantId: TENANT, documentId: page.documentId })).sort()).toEqual(page.ids.slice(1).sort());
    expect(await lance.count({ tenantId: TENANT, documentId: deletedDoc.documentId })).toBe(0);
    expect(await lance.count({ tenantId: TENANT, documentId: kept.documentId })).toBe(2);
    expect(await lance.count({ tenantId: OTHER_TENANT })).toBe(otherTenant.ids.length);
  });

  it("leaves another tenant's vectors under a listed document id alone", async () => {
    const foreign = await upsertDocument(2, OTHER_TENANT);
    await deleteVectors({ tenantId: TENANT, chunkIds: [], documentIds: [foreign.documentId] }, ctx, { vectors: lance });
    expect(await lance.count({ tenantId: OTHER_TENANT, documentId: foreign.documentId })).toBe(2);
  });

  it('a redelivered job, whose vectors are already gone, succeeds and removes nothing more', async () => {
    const doc = await upsertDocument(2);
    const data = { tenantId: TENANT, chunkIds: doc.ids, documentIds: [doc.documentId] };
    await deleteVectors(data, ctx, { vectors: lance });
    const left = await lance.count();
    expect(await deleteVectors(data, ctx, { vectors: lance })).toEqual({ chunks: 2, documents: 1 });
    expect(await lance.count()).toBe(left);
  });
});
