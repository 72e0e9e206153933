import type { Db } from './client.ts';
import type { ChunkInput } from './document.repository.ts';
import type { Prisma } from './generated/client.ts';
import { deterministicUuid } from './ids.ts';

/** One record ready to store: its document fields, computed by the caller (chunks only when needed, see {@link RecordRepository.write}). */
export interface PreparedRecord {
  url: string;
  title: string;
  markdown: string;
  contentHash: string;
  metadata: Record<string, unknown>;
}

export interface RecordWriteResult {
  /** Documents stored new or changed, each with the chunk ids its new version no longer has (their vectors are stale). */
  changed: { documentId: string; staleChunkIds: string[] }[];
  /** Records whose content hash matched an indexed document: left alone. */
  unchanged: number;
  /** Documents removed by deletions, with their chunk ids (for their vectors). */
  deleted: { documentIds: string[]; chunkIds: string[] };
}

/** A chunk to embed with what its vector needs from its document. */
export interface ChunkToEmbed {
  id: string;
  documentId: string;
  text: string;
  knowledgeBaseId: string;
  contentType: string;
  title: string;
  /** `metadata.summary` of the document when it is a string (knowledge articles). */
  summary: string | null;
}

/** Rows per statement: large enough to amortize round trips, small enough for sane statement sizes. */
const BATCH_ROWS = 1000;
/** A write of this many documents or more refreshes the tables' statistics (see `analyze`). */
const ANALYZE_AFTER_ROWS = 1000;
/** A whole request commits at once; 10,000+ records on a busy machine need more than Prisma's 5 s. */
const WRITE_TRANSACTION = { maxWait: 15_000, timeout: 180_000 } as const;

const batches = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Deletes record documents by URL, collecting their chunk ids first (the cascade does not report them). */
async function deleteRecords(tx: Prisma.TransactionClient, knowledgeBaseId: string, deleteUrls: string[]): Promise<RecordWriteResult['deleted']> {
  const deleted: RecordWriteResult['deleted'] = { documentIds: [], chunkIds: [] };
  for (const urls of batches([...new Set(deleteUrls)].sort(), BATCH_ROWS)) {
    const chunks = await tx.$queryRaw<{ id: string }[]>`
      SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE d.knowledge_base_id = ${knowledgeBaseId}::uuid AND d.content_type = 'record' AND d.url = ANY(${urls}::text[])`;
    const docs = await tx.$queryRaw<{ id: string }[]>`
      DELETE FROM documents WHERE knowledge_base_id = ${knowledgeBaseId}::uuid AND content_type = 'record' AND url = ANY(${urls}::text[]) RETURNING id`;
    deleted.documentIds.push(...docs.map((d) => d.id));
    deleted.chunkIds.push(...chunks.map((c) => c.id));
  }
  return deleted;
}

/**
 * Records (and anything else stored as many small documents at once) with
 * set-based SQL: one INSERT ... ON CONFLICT ... RETURNING per 1,000 rows
 * instead of a query per row. Each batch travels as ONE jsonb parameter
 * (jsonb_to_recordset): Prisma's per-element handling of array parameters
 * cost more CPU in the api than PostgreSQL spends parsing the JSON. Document ids come from the database; chunk
 * ids are derived from (document, position, hash) like
 * {@link DocumentRepository.store}, so an unchanged chunk keeps its vector.
 */
export class RecordRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Stores records and applies deletions in ONE transaction: a request
   * either lands whole or not at all. A record whose hash matches an
   * indexed document is left alone (`unchanged`); a new or changed one is
   * (re)written with status `indexing` under `taskId`, and its chunks are
   * replaced (chunks with the same id stay, keeping their `indexed` flag).
   * `chunk` is called only for records that changed, so a re-ingest of
   * unchanged rows costs no chunking.
   */
  async write(input: {
    tenantId: string;
    knowledgeBaseId: string;
    source: string;
    taskId: string;
    records: PreparedRecord[];
    deleteUrls: string[];
    chunk: (record: PreparedRecord) => ChunkInput[];
  }): Promise<RecordWriteResult> {
    const result = await this.db.$transaction(async (tx) => {
      const changed: RecordWriteResult['changed'] = [];
      let unchanged = 0;
      // Sorted so that concurrent requests lock rows in the same order (no deadlocks).
      const records = [...input.records].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
      for (const batch of batches(records, BATCH_ROWS)) {
        const stored = await tx.$queryRaw<{ id: string; url: string; inserted: boolean }[]>`
          INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, metadata, task_id, status, fetched_at, updated_at)
          SELECT gen_random_uuid(), ${input.tenantId}::uuid, ${input.knowledgeBaseId}::uuid, 'record', ${input.source}, r.url, r.title, r.markdown, r.hash, r.meta, ${input.taskId}::uuid, 'indexing', now(), now()
          FROM jsonb_to_recordset(${JSON.stringify(batch.map((r) => ({ url: r.url, title: r.title, markdown: r.markdown, hash: r.contentHash, meta: r.metadata })))}::jsonb)
            AS r(url text, title text, markdown text, hash text, meta jsonb)
          ON CONFLICT (knowledge_base_id, url) DO UPDATE SET
            title = excluded.title, markdown = excluded.markdown, content_hash = excluded.content_hash, metadata = excluded.metadata,
            content_type = excluded.content_type, source = excluded.source, task_id = excluded.task_id,
            status = 'indexing', fetched_at = now(), updated_at = now()
          WHERE documents.content_hash <> excluded.content_hash OR documents.status <> 'indexed'
          RETURNING id, url, (xmax = 0) AS inserted`;
        unchanged += batch.length - stored.length;
        if (stored.length === 0) continue;

        const byUrl = new Map(batch.map((r) => [r.url, r]));
        const chunks: { id: string; doc: string; pos: number; heading: string; text: string; hash: string }[] = [];
        for (const doc of stored) {
          for (const c of input.chunk(byUrl.get(doc.url)!)) {
            chunks.push({ id: deterministicUuid(doc.id, c.position, c.hash), doc: doc.id, pos: c.position, heading: c.heading, text: c.text, hash: c.hash });
          }
        }
        const ids = chunks.map((c) => c.id);
        const storedIds = stored.map((d) => d.id);
        // Only documents that existed before can have chunks to drop (xmax = 0 marks a fresh insert).
        const replacedIds = stored.filter((d) => !d.inserted).map((d) => d.id);
        const removed =
          replacedIds.length === 0
            ? []
            : await tx.$queryRaw<{ id: string; document_id: string }[]>`
                DELETE FROM chunks WHERE document_id = ANY(${replacedIds}::uuid[]) AND NOT (id = ANY(${ids}::uuid[])) RETURNING id, document_id`;
        await tx.$executeRaw`
          INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
          SELECT c.id, ${input.tenantId}::uuid, c.doc, c.pos, c.heading, c.text, c.hash
          FROM jsonb_to_recordset(${JSON.stringify(chunks)}::jsonb) AS c(id uuid, doc uuid, pos int, heading text, text text, hash text)
          ON CONFLICT (id) DO NOTHING`;
        const stale = new Map<string, string[]>();
        for (const r of removed) stale.set(r.document_id, [...(stale.get(r.document_id) ?? []), r.id]);
        for (const id of storedIds) changed.push({ documentId: id, staleChunkIds: stale.get(id) ?? [] });
      }

      const deleted = await deleteRecords(tx, input.knowledgeBaseId, input.deleteUrls);
      return { changed, unchanged, deleted };
    }, WRITE_TRANSACTION);
    if (result.changed.length + result.deleted.documentIds.length >= ANALYZE_AFTER_ROWS) await this.analyze();
    return result;
  }

  /**
   * Refreshes the planner's statistics of documents and chunks. After a bulk
   * write they lag until autovacuum gets to them (a minute and 10 % of the
   * table later); meanwhile the keyword search of a query planned on them
   * estimated one document and one hit, chose a nested loop, and took 4-30 s
   * instead of 30 ms while records were being ingested. ANALYZE samples a
   * fixed number of rows, so it costs the same on large tables.
   */
  private async analyze(): Promise<void> {
    await this.db.$executeRawUnsafe('ANALYZE documents, chunks');
  }

  /** Removes one record's document (chunks cascade); returns its ids for vector removal, or undefined when absent. */
  async delete(knowledgeBaseId: string, url: string): Promise<{ documentId: string; chunkIds: string[] } | undefined> {
    const deleted = await this.db.$transaction((tx) => deleteRecords(tx, knowledgeBaseId, [url]), WRITE_TRANSACTION);
    const documentId = deleted.documentIds[0];
    return documentId ? { documentId, chunkIds: deleted.chunkIds } : undefined;
  }

  /**
   * The chunks of these documents that still need a vector, in one query:
   * those not indexed, or every chunk when `all` (a vector that depends on
   * document fields, such as article weighting, must be recomputed).
   */
  async chunksToEmbed(tenantId: string, documentIds: string[], opts: { all?: boolean } = {}): Promise<ChunkToEmbed[]> {
    if (documentIds.length === 0) return [];
    return this.db.$queryRaw<ChunkToEmbed[]>`
      SELECT c.id, c.document_id AS "documentId", c.text, d.knowledge_base_id AS "knowledgeBaseId", d.content_type AS "contentType", d.title,
             CASE WHEN jsonb_typeof(d.metadata -> 'summary') = 'string' THEN d.metadata ->> 'summary' END AS summary
      FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE c.tenant_id = ${tenantId}::uuid AND c.document_id = ANY(${documentIds}::uuid[]) AND (${opts.all === true} OR NOT c.indexed)
      ORDER BY c.document_id, c.position`;
  }

  /**
   * Marks chunks indexed, then every listed document whose chunks are all
   * indexed; returns how many documents are indexed now.
   */
  async markIndexed(tenantId: string, chunkIds: string[], documentIds: string[]): Promise<number> {
    if (chunkIds.length > 0) {
      await this.db.$executeRaw`UPDATE chunks SET indexed = true, indexed_at = now() WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${chunkIds}::uuid[])`;
    }
    if (documentIds.length === 0) return 0;
    return this.db.$executeRaw`
      UPDATE documents d SET status = 'indexed', indexed_at = now(), updated_at = now()
      WHERE d.tenant_id = ${tenantId}::uuid AND d.id = ANY(${documentIds}::uuid[])
        AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id AND NOT c.indexed)`;
  }
}
