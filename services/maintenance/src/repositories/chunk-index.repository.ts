import type { Db } from '@kbflow/db';
import type { IdSlice } from '@kbflow/vector-store';
import type { ChunkState, PendingDocument } from '../domain/vector-drift.ts';

/** Rows per page when the sweep walks a tenant's chunks or checks ids. */
const CHUNK_PAGE = 5000;

/**
 * An unfinished task older than this is taken for stuck: its documents are
 * swept like any other. Younger ones are still feeding the embed queue.
 */
const STUCK_TASK_MS = 24 * 3600 * 1000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the vectorization sweep reads and writes in PostgreSQL. */
export class ChunkIndexRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** Every tenant: the sweep lists vectors tenant by tenant (the store's listing requires one). */
  async tenantIds(): Promise<string[]> {
    const rows = await this.db.tenant.findMany({ select: { id: true }, orderBy: { id: 'asc' } });
    return rows.map((r) => r.id);
  }

  /**
   * A tenant's chunks in pages of {@link CHUNK_PAGE}, by id (keyset, so rows
   * written meanwhile neither shift nor repeat a page). `settled` marks rows
   * indexed before `cutoff`. With `slice`, only the chunks whose id starts
   * with that hex digit (a range of the primary key).
   */
  async *chunkPages(tenantId: string, cutoff: Date, slice?: IdSlice): AsyncGenerator<ChunkState[]> {
    const range = slice === undefined ? {} : { gte: `${slice}0000000-0000-0000-0000-000000000000`, lte: `${slice}fffffff-ffff-ffff-ffff-ffffffffffff` };
    let after: string | undefined;
    for (;;) {
      const rows = await this.db.chunk.findMany({
        where: { tenantId, id: after ? { ...range, gt: after } : range },
        select: { id: true, indexed: { select: { indexedAt: true } } },
        orderBy: { id: 'asc' },
        take: CHUNK_PAGE,
      });
      if (rows.length === 0) return;
      yield rows.map((r) => ({ id: r.id, indexed: r.indexed !== null, settled: r.indexed !== null && r.indexed.indexedAt < cutoff }));
      if (rows.length < CHUNK_PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  /** Which of these ids have a chunk row now (ids that are not UUIDs never do). */
  async existingChunkIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const candidates = ids.filter((id) => UUID.test(id));
    for (let i = 0; i < candidates.length; i += CHUNK_PAGE) {
      const rows = await this.db.chunk.findMany({ where: { id: { in: candidates.slice(i, i + CHUNK_PAGE) } }, select: { id: true } });
      for (const r of rows) found.add(r.id);
    }
    return found;
  }

  /**
   * Marks chunks not indexed so they are embedded again, and their documents
   * `indexing` (the embedder marks them `indexed` again when done); returns
   * how many chunks changed. `updated_at` is left alone: it would put the
   * documents inside the grace period and delay the re-embedding.
   */
  async markNotIndexed(ids: readonly string[]): Promise<number> {
    let changed = 0;
    for (let i = 0; i < ids.length; i += CHUNK_PAGE) {
      const page = ids.slice(i, i + CHUNK_PAGE);
      const rows = await this.db.$queryRaw<{ n: number }[]>`
        WITH reset AS (
          DELETE FROM indexed_chunks i USING chunks c
          WHERE i.chunk_id = ANY(${page}::uuid[]) AND c.id = i.chunk_id
          RETURNING c.document_id
        ), documents_reset AS (
          UPDATE documents SET status = 'indexing'
          WHERE id IN (SELECT document_id FROM reset) AND status = 'indexed'
          RETURNING id
        )
        SELECT count(*)::int AS n FROM reset`;
      changed += rows[0]?.n ?? 0;
    }
    return changed;
  }

  /**
   * Documents with chunks that are not indexed and that nothing is working
   * on: chunk and document unchanged since `cutoff`, and not part of an
   * ingest or crawl task still running (younger than a day). With the number
   * of such chunks per document.
   */
  async unindexedDocuments(cutoff: Date): Promise<(PendingDocument & { chunks: number })[]> {
    // Prisma keeps DateTime columns as UTC `timestamp without time zone`:
    // compare in UTC whatever the session's time zone is.
    const before = cutoff.toISOString();
    const stuckBefore = new Date(Date.now() - STUCK_TASK_MS).toISOString();
    const rows = await this.db.$queryRaw<{ tenant_id: string; document_id: string; content_type: string; chunks: number }[]>`
      SELECT d.tenant_id::text, d.id::text AS document_id, d.content_type, count(*)::int AS chunks
      FROM chunks c
      JOIN documents d ON d.id = c.document_id
      WHERE NOT EXISTS (SELECT 1 FROM indexed_chunks i WHERE i.chunk_id = c.id)
        AND c.created_at < (${before}::timestamptz AT TIME ZONE 'UTC')
        AND d.updated_at < (${before}::timestamptz AT TIME ZONE 'UTC')
        AND NOT EXISTS (
          SELECT 1 FROM tasks t
          WHERE t.id = d.task_id AND t.state IN ('queued', 'running') AND t.created_at >= (${stuckBefore}::timestamptz AT TIME ZONE 'UTC')
        )
      GROUP BY d.tenant_id, d.id, d.content_type
      ORDER BY d.tenant_id, d.id`;
    return rows.map((r) => ({ tenantId: r.tenant_id, documentId: r.document_id, contentType: r.content_type, chunks: r.chunks }));
  }
}
