import { createDb, deterministicUuid, TenantRepository } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { chunkMarkdown, sha256Hex } from '@kbflow/extraction';
import { DEFAULT_VECTOR_COLLECTION, LanceDbVectorStore } from '@kbflow/vector-store';
import pg from 'pg';
import { BENCH_API_KEY } from '../context.ts';
import { syntheticRecords } from './synthetic-records.ts';

const BATCH = 5000;
const SOURCE = 'bench-tickets';

/** What {@link buildRecordIndex} wrote. */
export interface RecordIndex {
  tenantId: string;
  knowledgeBase: string;
  knowledgeBaseId: string;
  documents: number;
  chunks: number;
  seconds: { rows: number; vectors: number; compact: number };
}

/**
 * Writes `count` synthetic ticket records as an indexed knowledge base
 * without going through the queues: documents and chunks with multi-row
 * INSERTs (the same columns, ids and chunking kbflow's record ingestion
 * writes: `record://` URLs, chunkMarkdown, deterministic chunk ids), vectors
 * from the same offline embedder the services use, upserted into the LanceDB
 * table the services read, which is then compacted as the maintenance
 * service would. A fast way to an index of ~100,000 chunks for the latency
 * benchmark; ingestion speed is measured separately, through the API.
 */
export async function buildRecordIndex(opts: {
  databaseUrl: string;
  lanceDir: string;
  count: number;
  knowledgeBase: string;
  onProgress?: (done: number) => void;
}): Promise<RecordIndex> {
  const prisma = createDb(opts.databaseUrl);
  const tenants = new TenantRepository(prisma);
  const tenantId = await tenants.ensureTenantWithKey('dev', BENCH_API_KEY, { keyName: 'KBFLOW_DEV_API_KEY', tier: 'enterprise' });
  const knowledgeBaseId = await tenants.knowledgeBaseId(tenantId, opts.knowledgeBase);
  await prisma.$disconnect();

  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  const embedder = new HashingEmbedder();
  // Compacted as the maintenance service would, with its index threshold
  // (KBFLOW_VECTOR_INDEX_MIN_ROWS, 50,000 by default: the 100,000-chunk
  // index gets an IVF_PQ index; lower it to index the quick run's 20,000).
  const minRows = Number(process.env.KBFLOW_VECTOR_INDEX_MIN_ROWS);
  const store = new LanceDbVectorStore({ dir: opts.lanceDir, table: DEFAULT_VECTOR_COLLECTION, ...(minRows > 0 ? { indexMinRows: minRows } : {}) });
  await store.ensureCollection(embedder.dimensions);
  const seconds = { rows: 0, vectors: 0, compact: 0 };
  let chunkCount = 0;
  try {
    const records = syntheticRecords(opts.count, 'idx');
    for (let start = 0; start < records.length; start += BATCH) {
      let t = performance.now();
      const docs = records.slice(start, start + BATCH).map((r) => {
        const url = `record://${SOURCE}/${encodeURIComponent(r.id)}`;
        const markdown = `# ${r.title}\n\n${r.body}`;
        const id = deterministicUuid('bench-doc', knowledgeBaseId, url);
        const chunks = chunkMarkdown(markdown).map((c) => ({ ...c, id: deterministicUuid(id, c.position, c.hash) }));
        return { id, url, title: r.title, markdown, hash: sha256Hex(markdown), metadata: JSON.stringify(r.metadata), chunks };
      });
      const chunks = docs.flatMap((d) => d.chunks.map((c) => ({ ...c, documentId: d.id })));
      await db.query('BEGIN');
      await db.query(
        `INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, metadata, status, fetched_at, indexed_at, updated_at)
         SELECT d.id, $1, $2, 'record', '${SOURCE}', d.url, d.title, d.markdown, d.hash, d.metadata::jsonb, 'indexed', now(), now(), now()
         FROM unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS d(id, url, title, markdown, hash, metadata)`,
        [
          tenantId,
          knowledgeBaseId,
          docs.map((d) => d.id),
          docs.map((d) => d.url),
          docs.map((d) => d.title),
          docs.map((d) => d.markdown),
          docs.map((d) => d.hash),
          docs.map((d) => d.metadata),
        ],
      );
      await db.query(
        `INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
         SELECT c.id, $1, c.document_id, c.position, c.heading, c.text, c.hash
         FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::text[]) AS c(id, document_id, position, heading, text, hash)`,
        [
          tenantId,
          chunks.map((c) => c.id),
          chunks.map((c) => c.documentId),
          chunks.map((c) => c.position),
          chunks.map((c) => c.heading),
          chunks.map((c) => c.text),
          chunks.map((c) => c.hash),
        ],
      );
      await db.query(`INSERT INTO indexed_chunks (chunk_id, tenant_id) SELECT id, $1 FROM unnest($2::uuid[]) AS id`, [tenantId, chunks.map((c) => c.id)]);
      await db.query('COMMIT');
      seconds.rows += (performance.now() - t) / 1000;
      t = performance.now();
      const vectors = await embedder.embed(chunks.map((c) => c.text));
      await store.upsert(
        chunks.map((c, i) => ({
          id: c.id,
          vector: vectors[i]!,
          payload: { tenantId, knowledgeBaseId, documentId: c.documentId, contentType: 'record' as const },
        })),
      );
      seconds.vectors += (performance.now() - t) / 1000;
      chunkCount += chunks.length;
      opts.onProgress?.(start + docs.length);
    }
    await db.query('ANALYZE documents; ANALYZE chunks');
    const t = performance.now();
    await store.optimize();
    await store.ensureVectorIndex();
    seconds.compact = (performance.now() - t) / 1000;
  } finally {
    await store.close();
    await db.end();
  }
  return { tenantId, knowledgeBase: opts.knowledgeBase, knowledgeBaseId, documents: opts.count, chunks: chunkCount, seconds };
}
