// A chunk's indexed state on a real PostgreSQL (migration
// 20261204050000_indexed_chunks): marking chunks indexed writes rows of
// indexed_chunks and leaves the chunk rows (with their full-text entries) as
// they are, and the read of a batch's chunks still to embed probes that
// table per chunk whatever its statistics say.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@kbflow/testing';
import { Prisma } from '../src/generated/client.ts';
import { chunksToEmbedSql } from '../src/record.repository.ts';
import { createDb, RecordRepository, TenantRepository, type Db } from '../src/index.ts';

let database: TestDatabase;
let db: Db;
let records: RecordRepository;
let tenantId: string;
let knowledgeBaseId: string;

/** A record document with `n` chunks, none indexed; returns its id and its chunks' ids in order. */
async function storeDocument(n: number): Promise<{ documentId: string; chunkIds: string[] }> {
  const documentId = randomUUID();
  const chunkIds = Array.from({ length: n }, () => randomUUID());
  await db.$executeRaw`
    INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, status, updated_at)
    VALUES (${documentId}::uuid, ${tenantId}::uuid, ${knowledgeBaseId}::uuid, 'record', 'test', ${`record://test/${documentId}`}, 't', 'body', 'h', 'indexing', now())`;
  await db.$executeRaw`
    INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
    SELECT c.id, ${tenantId}::uuid, ${documentId}::uuid, c.position - 1, 'Printers', 'printer offline after the firmware update, chunk ' || c.position, c.id::text
    FROM unnest(${chunkIds}::uuid[]) WITH ORDINALITY AS c(id, position)`;
  return { documentId, chunkIds };
}

/** `n` record documents of one chunk each, none indexed (an ingest batch); returns their ids and their chunks' ids. */
async function storeRecords(n: number): Promise<{ documentIds: string[]; chunkIds: string[] }> {
  const documentIds = Array.from({ length: n }, () => randomUUID());
  const chunkIds = Array.from({ length: n }, () => randomUUID());
  await db.$executeRaw`
    INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, status, updated_at)
    SELECT d, ${tenantId}::uuid, ${knowledgeBaseId}::uuid, 'record', 'test', 'record://test/' || d, 't', 'body', 'h', 'indexing', now()
    FROM unnest(${documentIds}::uuid[]) AS d`;
  await db.$executeRaw`
    INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
    SELECT c.id, ${tenantId}::uuid, c.document_id, 0, '', 'printer offline after the firmware update', c.id::text
    FROM unnest(${chunkIds}::uuid[], ${documentIds}::uuid[]) AS c(id, document_id)`;
  return { documentIds, chunkIds };
}

/** Each chunk's physical row address: a new version of the row (an UPDATE, even a HOT one) gets a new one. */
const rowVersions = async (ids: string[]) =>
  (await db.$queryRaw<{ id: string; ctid: string }[]>`SELECT id, ctid::text FROM chunks WHERE id = ANY(${ids}::uuid[]) ORDER BY position`).map(
    (r) => `${r.id}@${r.ctid}`,
  );

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { poolSize: 4 });
  records = new RecordRepository(db);
  const tenants = new TenantRepository(db);
  tenantId = await tenants.ensureTenantWithKey('indexed-chunks-test', 'indexed-chunks-test-key-123456');
  knowledgeBaseId = await tenants.knowledgeBaseId(tenantId, 'default');
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

describe('indexed chunks', () => {
  it('marks chunks indexed without writing a new version of their rows, and the document once all its chunks are', async () => {
    const doc = await storeDocument(3);
    const before = await rowVersions(doc.chunkIds);
    expect((await records.chunksToEmbed(tenantId, [doc.documentId])).map((c) => c.id)).toEqual(doc.chunkIds);

    // Two of three: the document waits for the third.
    expect(await records.markIndexed(tenantId, doc.chunkIds.slice(0, 2), [doc.documentId])).toBe(0);
    expect((await records.chunksToEmbed(tenantId, [doc.documentId])).map((c) => c.id)).toEqual([doc.chunkIds[2]]);
    expect(await records.markIndexed(tenantId, doc.chunkIds.slice(2), [doc.documentId])).toBe(1);
    expect(await records.chunksToEmbed(tenantId, [doc.documentId])).toEqual([]);
    expect((await db.document.findUniqueOrThrow({ where: { id: doc.documentId } })).status).toBe('indexed');

    // The chunk rows are the very rows written at first; `all` still returns every chunk.
    expect(await rowVersions(doc.chunkIds)).toEqual(before);
    expect((await records.chunksToEmbed(tenantId, [doc.documentId], { all: true })).map((c) => c.id)).toEqual(doc.chunkIds);
    const marked = await db.indexedChunk.findMany({ where: { chunkId: { in: doc.chunkIds } } });
    expect(marked.map((m) => m.tenantId)).toEqual([tenantId, tenantId, tenantId]);
  });

  it("marks nothing of another tenant's, and a marked chunk's state goes with the chunk", async () => {
    const doc = await storeDocument(2);
    await records.markIndexed(randomUUID(), doc.chunkIds, [doc.documentId]);
    expect(await db.indexedChunk.count({ where: { chunkId: { in: doc.chunkIds } } })).toBe(0);
    await records.markIndexed(tenantId, doc.chunkIds, []);
    await db.chunk.delete({ where: { id: doc.chunkIds[0] } });
    expect((await db.indexedChunk.findMany({ where: { chunkId: { in: doc.chunkIds } } })).map((m) => m.chunkId)).toEqual([doc.chunkIds[1]]);
  });

  it("reads a batch's chunks to embed with one probe a chunk, not a pass over every indexed chunk, whatever the statistics say", async () => {
    // Documents and chunks analyzed (as an ingest's write does), indexed_chunks
    // never (autovacuum off): 30,000 chunks indexed, a batch of 1,000 to embed.
    const grown = await storeRecords(30_000);
    await records.markIndexed(tenantId, grown.chunkIds, []);
    const batch = await storeRecords(1_000);
    await db.$executeRawUnsafe('ANALYZE documents, chunks');
    await records.markIndexed(tenantId, batch.chunkIds.slice(0, 10), []);
    const [row] = await db.$queryRaw<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(
      Prisma.sql`EXPLAIN (ANALYZE, FORMAT JSON) ${chunksToEmbedSql(tenantId, batch.documentIds, false)}`,
    );
    const plan = row!['QUERY PLAN'][0].Plan;
    // An anti join hashes all 30,010 indexed chunks for every batch, a cost that grows with the knowledge base.
    expect(rowsRead(plan, 'indexed_chunks')).toBeLessThanOrEqual(1_000);
    expect((await records.chunksToEmbed(tenantId, batch.documentIds)).length).toBe(990);
  }, 60_000);
});

interface PlanNode {
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Rows the plan's scans of `table` (or of its indexes) returned, over all their loops. */
function rowsRead(node: PlanNode, table: string): number {
  const own = node['Relation Name'] === table || node['Index Name']?.startsWith(`${table}_`) ? node['Actual Rows'] * node['Actual Loops'] : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child, table), 0);
}
