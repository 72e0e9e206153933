import { randomUUID } from 'node:crypto';
import { copyRows, deterministicUuid } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import * as lancedb from '@lancedb/lancedb';
import pg from 'pg';
import { lanceSchema } from '../../../packages/vector-store/src/lancedb-schema.ts';
import { chunkRecord, prepareRecord } from '../../../services/api/src/domain/record-document.ts';
import type { BenchRecord } from '../data/synthetic-records.ts';

/** Texts per embedder call, as the embedder service's `embed-documents` makes them. */
const EMBED_BATCH = 128;
/** Vectors per append: large batches, what the storage takes best. */
const APPEND_BATCH = 10_000;
const SOURCE = 'bench';

const DOCUMENT_COLUMNS = [
  'id',
  'tenant_id',
  'knowledge_base_id',
  'content_type',
  'source',
  'url',
  'title',
  'markdown',
  'content_hash',
  'metadata',
  'status',
  'fetched_at',
  'updated_at',
] as const;
const CHUNK_COLUMNS = ['id', 'tenant_id', 'document_id', 'position', 'heading', 'text', 'hash'] as const;

/** Scratch tables and a scratch vector table for {@link copyBaseline}, made once per benchmark run. */
export interface BaselineStore {
  databaseUrl: string;
  lanceDir: string;
  table?: lancedb.Table;
}

/**
 * Creates `scratch_documents` and `scratch_chunks` as copies of the real
 * tables' definitions (`LIKE ... INCLUDING ALL`: the same columns, the
 * generated full-text column, defaults and indexes, the GIN index among
 * them; no foreign keys), so the baseline pays what the storage pays.
 */
export async function createBaselineTables(databaseUrl: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('CREATE TABLE scratch_documents (LIKE documents INCLUDING ALL); CREATE TABLE scratch_chunks (LIKE chunks INCLUDING ALL)');
  } finally {
    await db.end();
  }
}

/**
 * The ingestion baseline: what the storage itself can take. The same rows
 * and chunks kbflow's record ingestion writes (its own document preparation
 * and chunking, the same ids), written with `COPY` into the scratch tables
 * in one transaction, then their vectors from the same offline embedder
 * appended to a scratch LanceDB table in batches of 10,000. No queue, no
 * HTTP, no upsert semantics: one process doing the work end to end.
 */
export async function copyBaseline(store: BaselineStore, records: BenchRecord[]): Promise<{ seconds: number; rowsSeconds: number; chunks: number }> {
  const started = performance.now();
  const tenantId = randomUUID();
  const knowledgeBaseId = randomUUID();
  const now = new Date().toISOString();
  const documents = records.map((r, row) => {
    const prepared = prepareRecord(SOURCE, { row: row + 1, id: r.id, title: r.title, body: r.body, metadata: r.metadata });
    const id = randomUUID();
    return { id, prepared, chunks: chunkRecord(prepared).map((c) => ({ ...c, id: deterministicUuid(id, c.position, c.hash) })) };
  });
  const db = new pg.Client({ connectionString: store.databaseUrl });
  await db.connect();
  let chunkCount: number;
  try {
    await db.query('BEGIN');
    await copyRows(
      db,
      'scratch_documents',
      DOCUMENT_COLUMNS,
      documents.map((d) => [
        d.id,
        tenantId,
        knowledgeBaseId,
        'record',
        SOURCE,
        d.prepared.url,
        d.prepared.title,
        d.prepared.markdown,
        d.prepared.contentHash,
        JSON.stringify(d.prepared.metadata),
        'indexing',
        now,
        now,
      ]),
    );
    chunkCount = await copyRows(
      db,
      'scratch_chunks',
      CHUNK_COLUMNS,
      documents.flatMap((d) => d.chunks.map((c) => [c.id, tenantId, d.id, c.position, c.heading, c.text, c.hash])),
    );
    await db.query('COMMIT');
  } finally {
    await db.end();
  }
  const rowsSeconds = (performance.now() - started) / 1000;
  const embedder = new HashingEmbedder();
  const chunks = documents.flatMap((d) => d.chunks.map((c) => ({ ...c, documentId: d.id })));
  if (!store.table) {
    const conn = await lancedb.connect(store.lanceDir);
    store.table = await conn.createEmptyTable('scratch_vectors', lanceSchema(embedder.dimensions), { mode: 'create', existOk: true });
  }
  for (let i = 0; i < chunks.length; i += APPEND_BATCH) {
    const part = chunks.slice(i, i + APPEND_BATCH);
    const vectors: number[][] = [];
    for (let j = 0; j < part.length; j += EMBED_BATCH) vectors.push(...(await embedder.embed(part.slice(j, j + EMBED_BATCH).map((c) => c.text))));
    await store.table.add(part.map((c, k) => ({ id: c.id, tenantId, knowledgeBaseId, documentId: c.documentId, contentType: 'record', vector: vectors[k]! })));
  }
  return { seconds: (performance.now() - started) / 1000, rowsSeconds, chunks: chunkCount };
}
