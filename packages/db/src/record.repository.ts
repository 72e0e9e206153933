import { poolOf, type Db } from './client.ts';
import { Prisma } from './generated/client.ts';
import { CHUNK_NOT_INDEXED } from './indexed-chunks.ts';
import { expireSyncs, readSync, rejectSyncBatch, type RecordSyncState } from './record-sync.ts';
import { RecordWriter, type PreparedRecord, type RecordWriteResult, type RecordWriteScope } from './record-writer.ts';

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

/** `chunksToEmbed`'s statement; exported for the test that bounds what it reads. */
export const chunksToEmbedSql = (tenantId: string, documentIds: string[], all: boolean): Prisma.Sql => Prisma.sql`
  SELECT c.id, c.document_id AS "documentId", c.text, d.knowledge_base_id AS "knowledgeBaseId", d.content_type AS "contentType", d.title,
         CASE WHEN jsonb_typeof(d.metadata -> 'summary') = 'string' THEN d.metadata ->> 'summary' END AS summary
  FROM chunks c JOIN documents d ON d.id = c.document_id
  WHERE c.tenant_id = ${tenantId}::uuid AND c.document_id = ANY(${documentIds}::uuid[]) AND (${all} OR ${CHUNK_NOT_INDEXED})
  ORDER BY c.document_id, c.position`;

/** A write of this many documents or more refreshes the tables' statistics (see `analyze`). */
const ANALYZE_AFTER_ROWS = 1000;

/**
 * Records (and anything else stored as many small documents at once),
 * written by COPY through a {@link RecordWriter}: one transaction per
 * request, fed batch by batch. Document ids are random; chunk ids are
 * derived from (document, position, hash) like
 * {@link DocumentRepository.store}, so an unchanged chunk keeps its vector.
 */
export class RecordRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Opens one request's write: `add` batches of records and `delete` URLs
   * as the body is read, then `commit` (or `rollback`: nothing stays). A
   * record whose hash matches an indexed document is left alone
   * (`unchanged`); a new or changed one is (re)written with status
   * `indexing` under `taskId`, and its chunks are replaced (chunks with the
   * same id stay, keeping their indexed state, `indexed_chunks`). Call {@link finishWrite}
   * after the commit.
   */
  async openWriter(scope: RecordWriteScope): Promise<RecordWriter> {
    return RecordWriter.open(poolOf(this.db), scope);
  }

  /** After a committed write: refreshes the statistics when it was large (see `analyze`). */
  async finishWrite(result: RecordWriteResult): Promise<void> {
    if (result.changed.length + result.deleted.documentIds.length >= ANALYZE_AFTER_ROWS) await this.analyze();
  }

  /**
   * Stores records and applies deletions in ONE transaction: a request
   * either lands whole or not at all (see {@link openWriter}).
   */
  async write(input: RecordWriteScope & { taskId: string; records: PreparedRecord[]; deleteUrls: string[] }): Promise<RecordWriteResult> {
    const writer = await this.openWriter(input);
    let result: RecordWriteResult;
    try {
      await writer.add(input.records);
      await writer.delete(input.deleteUrls);
      result = await writer.commit();
    } catch (error) {
      await writer.rollback();
      throw error;
    }
    await this.finishWrite(result);
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
    await this.db.$executeRawUnsafe('ANALYZE documents, chunks, indexed_chunks');
  }

  /** Removes one record's document (chunks cascade); returns its ids for vector removal, or undefined when absent. */
  async delete(knowledgeBaseId: string, url: string): Promise<{ documentId: string; chunkIds: string[] } | undefined> {
    const writer = await RecordWriter.open(poolOf(this.db), { tenantId: '', knowledgeBaseId, source: '', chunk: () => [] }, { createTask: false });
    let deleted: RecordWriteResult['deleted'];
    try {
      await writer.delete([url]);
      ({ deleted } = await writer.commit());
    } catch (error) {
      await writer.rollback();
      throw error;
    }
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
    return this.db.$queryRaw<ChunkToEmbed[]>(chunksToEmbedSql(tenantId, documentIds, opts.all === true));
  }

  /**
   * Marks chunks indexed, then every listed document whose chunks are all
   * indexed; returns how many documents are indexed now.
   */
  async markIndexed(tenantId: string, chunkIds: string[], documentIds: string[]): Promise<number> {
    if (chunkIds.length > 0) {
      await this.db.$executeRaw`
        INSERT INTO indexed_chunks (chunk_id, tenant_id)
        SELECT c.id, c.tenant_id FROM chunks c WHERE c.tenant_id = ${tenantId}::uuid AND c.id = ANY(${chunkIds}::uuid[])
        ON CONFLICT (chunk_id) DO UPDATE SET indexed_at = EXCLUDED.indexed_at`;
    }
    if (documentIds.length === 0) return 0;
    return this.db.$executeRaw`
      UPDATE documents d SET status = 'indexed', indexed_at = now(), updated_at = now()
      WHERE d.tenant_id = ${tenantId}::uuid AND d.id = ANY(${documentIds}::uuid[])
        AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id AND ${CHUNK_NOT_INDEXED})`;
  }

  /** A tenant's record sync by its id (record-sync.ts), or undefined: checked before a batch writes anything. */
  async findSync(tenantId: string, id: string): Promise<RecordSyncState | undefined> {
    return readSync(poolOf(this.db), tenantId, id);
  }

  /** Marks a batch of an open sync refused for its body, so the final batch deletes nothing (see `rejectSyncBatch`). */
  async rejectSyncBatch(scope: { tenantId: string; knowledgeBaseId: string; source: string; id: string }): Promise<void> {
    await rejectSyncBatch(poolOf(this.db), scope);
  }

  /** Retention of record syncs: idle open ones expire, old finished and expired ones go (see `expireSyncs`). */
  async expireSyncs(): Promise<{ expired: number; removed: number }> {
    return expireSyncs(poolOf(this.db));
  }
}
