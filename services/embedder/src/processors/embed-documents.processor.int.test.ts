// embedDocuments on real PostgreSQL and a real LanceDB store in a temp dir:
// an ingest batch's documents get a vector per chunk and are marked indexed
// in set-based SQL, a redelivery finds nothing left to embed, the stale
// vectors of a new version go, and article weighting mixes in title and
// summary.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository, RecordRepository, type ContentType, type Db } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import type { JobContext } from '@kbflow/queues';
import { createTenantFixture, type TenantFixture } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Job } from 'bullmq';
import { weightedArticleVector } from '../domain/article-weighting.ts';
import { embedDocuments, type EmbedDocumentsDeps } from './embed-documents.processor.ts';

const log = createLogger('embed-documents-test', 'silent');
// embedDocuments reads only the logger from its context.
const ctx = { job: { id: 'embed-documents-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'embed-documents-test' } satisfies JobContext;
const embedder = new HashingEmbedder();

let fixture: TenantFixture;
let db: Db;
let lanceDir: string;
let lance: LanceDbVectorStore;
let documents: DocumentRepository;
let deps: EmbedDocumentsDeps;
let tenantId: string;
let knowledgeBaseId: string;
let stored = 0;

/** A document of `type` with these chunk texts, stored unindexed as ingestion leaves it. */
async function storeDocument(type: ContentType, texts: string[], title = `Document ${stored + 1}`): Promise<{ documentId: string; chunkIds: string[] }> {
  const n = ++stored;
  const result = await documents.store({
    tenantId,
    knowledgeBaseId,
    url: `${type}://test/${n}`,
    title,
    markdown: texts.join('\n\n'),
    contentHash: `doc-${n}`,
    contentType: type,
    chunks: texts.map((text, position) => ({ position, heading: title, text, hash: `h-${n}-${position}` })),
  });
  return { documentId: result.documentId, chunkIds: result.chunkIds };
}

const statusOf = async (id: string) => (await db.document.findUniqueOrThrow({ where: { id }, select: { status: true } })).status;

beforeAll(async () => {
  fixture = await createTenantFixture('embed-documents');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-embed-documents-'));
  lance = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  documents = new DocumentRepository(db);
  deps = { records: new RecordRepository(db), embedder, vectors: lance, ready: () => lance.ensureCollection(embedder.dimensions) };
});

afterAll(async () => {
  await lance.close();
  await fixture.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('embedDocuments', () => {
  it("embeds every chunk of the batch's documents under its id and type, marks them indexed, and a redelivery embeds nothing again", async () => {
    const a = await storeDocument('record', ['Refunds are issued within five days.', 'Contact billing for partial refunds.']);
    const b = await storeDocument('case', ['The export button fails on Safari 16.']);
    const data = { tenantId, documentIds: [a.documentId, b.documentId], staleChunkIds: [], weighting: 'none' as const };

    expect(await embedDocuments(data, ctx, deps)).toEqual({ chunks: 3, documentsIndexed: 2, staleRemoved: 0 });
    expect((await lance.listIds({ tenantId, documentId: a.documentId })).sort()).toEqual([...a.chunkIds].sort());
    expect(await lance.listIds({ tenantId, documentId: b.documentId, contentTypes: ['case'] })).toEqual(b.chunkIds);
    expect([await statusOf(a.documentId), await statusOf(b.documentId)]).toEqual(['indexed', 'indexed']);

    const vectors = await lance.count({ tenantId });
    expect(await embedDocuments(data, ctx, deps)).toEqual({ chunks: 0, documentsIndexed: 2, staleRemoved: 0 });
    expect(await lance.count({ tenantId })).toBe(vectors);
  });

  it('removes the vectors of the chunks a new version dropped', async () => {
    const doc = await storeDocument('record', ['First version, part one.', 'First version, part two.']);
    await embedDocuments({ tenantId, documentIds: [doc.documentId], staleChunkIds: [], weighting: 'none' }, ctx, deps);
    const dropped = doc.chunkIds[1]!;
    await db.chunk.delete({ where: { id: dropped } });

    expect(await embedDocuments({ tenantId, documentIds: [doc.documentId], staleChunkIds: [dropped], weighting: 'none' }, ctx, deps)).toEqual({
      chunks: 0,
      documentsIndexed: 1,
      staleRemoved: 1,
    });
    expect(await lance.listIds({ tenantId, documentId: doc.documentId })).toEqual([doc.chunkIds[0]]);
  });

  it("with article weighting, re-embeds every chunk (indexed ones too) as the mix of its text, the document's title and its summary", async () => {
    const text = 'Clear the browser cache, then sign in again.';
    const title = 'Login loops after a password reset';
    const summary = 'A stale session cookie sends users back to the login page.';
    const doc = await storeDocument('article', [text], title);
    await db.document.update({ where: { id: doc.documentId }, data: { metadata: { summary } } });
    await db.$executeRaw`INSERT INTO indexed_chunks (chunk_id, tenant_id) SELECT id, tenant_id FROM chunks WHERE document_id = ${doc.documentId}::uuid`;

    expect(await embedDocuments({ tenantId, documentIds: [doc.documentId], staleChunkIds: [], weighting: 'article' }, ctx, deps)).toEqual({
      chunks: 1,
      documentsIndexed: 1,
      staleRemoved: 0,
    });
    const [chunkVector, titleVector, summaryVector] = await embedder.embed([text, title, summary]);
    const weighted = weightedArticleVector(chunkVector!, titleVector, summaryVector);
    const [hit] = await lance.search(weighted, { tenantId, documentId: doc.documentId }, 1);
    expect(hit?.id).toBe(doc.chunkIds[0]);
    // The stored vector is the weighted one, not the chunk's own embedding.
    expect(hit?.score).toBeCloseTo(1, 4);
    const [plain] = await lance.search(chunkVector!, { tenantId, documentId: doc.documentId }, 1);
    expect(plain?.score).toBeLessThan(0.99);
  });
});
