import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { copyRows } from './copy-rows.ts';
import type { ChunkInput } from './document.repository.ts';
import { deterministicUuid } from './ids.ts';
import { finishSync, joinSync, rememberSyncUrls, type RecordSyncScope, type RecordSyncState } from './record-sync.ts';

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

/** URLs per deletion statement: large enough to amortize round trips, small enough for sane statement sizes. */
const DELETE_BATCH = 1000;

/** What a {@link RecordWriter} writes for. */
export interface RecordWriteScope {
  tenantId: string;
  knowledgeBaseId: string;
  source: string;
  /**
   * The ingest task the documents are written under. Without one, the
   * writer creates it in its own transaction (see {@link RecordWriter.taskId}),
   * so an api killed mid-upload leaves no task behind either.
   */
  taskId?: string;
  /** The W3C trace id of the request, stored on a task the writer creates. */
  traceId?: string;
  /** Called only for records that changed, so a re-ingest of unchanged rows costs no chunking. */
  chunk: (record: PreparedRecord) => ChunkInput[];
  /**
   * `full`: the upload is the whole source. Every record URL it names is
   * remembered (a temporary table), and {@link RecordWriter.deleteMissing}
   * removes the source's records it did not name, in the same transaction.
   * `incremental` (the default): only what the upload names is touched.
   */
  mode?: 'incremental' | 'full';
  /**
   * mode=full spread over several requests (record-sync.ts): this write is
   * one batch of the sync; {@link RecordWriter.closeSyncBatch} counts it in,
   * and only the final batch deletes what the whole sync did not name.
   */
  sync?: RecordSyncScope;
}

const byUrl = (a: PreparedRecord, b: PreparedRecord) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0);

/**
 * One request's record writes, in ONE PostgreSQL transaction on a
 * connection of its own, fed batch by batch as the body is read: nothing
 * is visible until {@link commit}, and {@link rollback} (a body that turns
 * out malformed half-way) leaves nothing behind, while the process holds
 * one batch at a time instead of the whole upload.
 *
 * Rows travel by COPY, PostgreSQL's bulk path (no statement per batch to
 * parse, no parameters to bind): the documents into a temporary table and
 * from there, in one INSERT ... ON CONFLICT per batch, into `documents`
 * (unchanged records skipped, changed ones rewritten); the chunks of newly
 * inserted documents straight into `chunks` (their ids derive from a fresh
 * document id, so none can exist); the chunks of replaced documents through
 * a temporary table, keeping chunks whose id (and vector) is unchanged.
 */
export class RecordWriter {
  readonly #client: pg.PoolClient;
  readonly #scope: RecordWriteScope & { taskId: string };
  readonly #result: RecordWriteResult = { changed: [], unchanged: 0, deleted: { documentIds: [], chunkIds: [] } };
  #finished = false;

  private constructor(client: pg.PoolClient, scope: RecordWriteScope & { taskId: string }) {
    this.#client = client;
    this.#scope = scope;
  }

  /** The task the documents are written under (created with the write when the scope named none). */
  get taskId(): string {
    return this.#scope.taskId;
  }

  /**
   * Opens the transaction and its temporary tables, and creates the ingest
   * task in it when the scope names none (`running`, zero counts, as
   * `TaskRepository.createIngestTask` makes it): it appears with the
   * documents at the commit, or never.
   */
  static async open(pool: pg.Pool, scope: RecordWriteScope, opts: { createTask?: boolean } = {}): Promise<RecordWriter> {
    const client = await pool.connect();
    const taskId = scope.taskId ?? randomUUID();
    try {
      await client.query('BEGIN');
      if (scope.taskId === undefined && opts.createTask !== false) {
        const params = { source: scope.source, received: 0, accepted: 0, unchanged: 0, deleted: 0, invalid: 0, toEmbed: 0 };
        await client.query(
          `INSERT INTO tasks (id, tenant_id, knowledge_base_id, type, state, params, started_at, trace_id) VALUES ($1, $2, $3, 'ingest', 'running', $4, now(), $5)`,
          [taskId, scope.tenantId, scope.knowledgeBaseId, JSON.stringify(params), scope.traceId ?? null],
        );
      }
      await client.query(`
        CREATE TEMP TABLE incoming_documents (id uuid, url text, title text, markdown text, hash text, meta jsonb) ON COMMIT DROP;
        CREATE TEMP TABLE incoming_chunks (id uuid, document_id uuid, position int, heading text, text text, hash text) ON COMMIT DROP`);
      // No unique key: an upload may name a record twice (a row and its deletion), and COPY cannot skip duplicates.
      if (scope.sync && scope.mode !== 'full') throw new Error('a record sync needs mode full');
      if (scope.mode === 'full') await client.query('CREATE TEMP TABLE seen_urls (url text) ON COMMIT DROP; CREATE INDEX ON seen_urls (url)');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw error;
    }
    return new RecordWriter(client, { ...scope, taskId });
  }

  /**
   * The records of a batch the knowledge base has room for under a quota of
   * `maxDocuments` (the tenant's maxDocumentsPerKnowledgeBase): a record
   * already stored costs nothing, a new one costs one of the room left, in
   * order. Counted in this transaction, so earlier batches of the upload
   * count; uploads and crawls into the same knowledge base at the same time
   * are not serialized with it and may together overshoot by what they
   * store concurrently (docs/tenancy.md). Two indexed reads a batch.
   */
  async withinQuota(records: PreparedRecord[], maxDocuments: number): Promise<{ admitted: PreparedRecord[]; refused: PreparedRecord[] }> {
    if (records.length === 0) return { admitted: [], refused: [] };
    const { knowledgeBaseId } = this.#scope;
    const [count, known] = [
      await this.#client.query<{ n: number }>('SELECT count(*)::int AS n FROM documents WHERE knowledge_base_id = $1', [knowledgeBaseId]),
      await this.#client.query<{ url: string }>('SELECT url FROM documents WHERE knowledge_base_id = $1 AND url = ANY($2::text[])', [
        knowledgeBaseId,
        records.map((r) => r.url),
      ]),
    ];
    const stored = new Set(known.rows.map((r) => r.url));
    let room = maxDocuments - (count.rows[0]?.n ?? 0);
    const admitted: PreparedRecord[] = [];
    const refused: PreparedRecord[] = [];
    for (const record of records) {
      if (stored.has(record.url)) admitted.push(record);
      else if (room > 0) {
        admitted.push(record);
        room -= 1;
      } else refused.push(record);
    }
    return { admitted, refused };
  }

  /** Writes a batch of records (stored new, rewritten when changed, left alone when unchanged). */
  async add(records: PreparedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const client = this.#client;
    const { tenantId, knowledgeBaseId, source, taskId } = this.#scope;
    // Sorted so that concurrent requests lock rows in the same order within a batch.
    const sorted = [...records].sort(byUrl);
    await this.#remember(sorted.map((r) => r.url));
    await client.query('TRUNCATE incoming_documents');
    await copyRows(
      client,
      'incoming_documents',
      ['id', 'url', 'title', 'markdown', 'hash', 'meta'],
      sorted.map((r) => [randomUUID(), r.url, r.title, r.markdown, r.contentHash, JSON.stringify(r.metadata)]),
    );
    const stored = await client.query<{ id: string; url: string; inserted: boolean }>(
      `INSERT INTO documents (id, tenant_id, knowledge_base_id, content_type, source, url, title, markdown, content_hash, metadata, task_id, status, fetched_at, updated_at)
       SELECT r.id, $1, $2, 'record', $3, r.url, r.title, r.markdown, r.hash, r.meta, $4, 'indexing', now(), now()
       FROM incoming_documents r ORDER BY r.url
       ON CONFLICT (knowledge_base_id, url) DO UPDATE SET
         title = excluded.title, markdown = excluded.markdown, content_hash = excluded.content_hash, metadata = excluded.metadata,
         content_type = excluded.content_type, source = excluded.source, task_id = excluded.task_id,
         status = 'indexing', fetched_at = now(), updated_at = now()
       WHERE documents.content_hash <> excluded.content_hash OR documents.status <> 'indexed'
       RETURNING id, url, (xmax = 0) AS inserted`,
      [tenantId, knowledgeBaseId, source, taskId],
    );
    this.#result.unchanged += sorted.length - stored.rows.length;
    if (stored.rows.length === 0) return;

    const recordOf = new Map(sorted.map((r) => [r.url, r]));
    const fresh: unknown[][] = [];
    const replaced: unknown[][] = [];
    const replacedIds: string[] = [];
    for (const doc of stored.rows) {
      const target = doc.inserted ? fresh : replaced;
      if (!doc.inserted) replacedIds.push(doc.id);
      for (const c of this.#scope.chunk(recordOf.get(doc.url)!))
        target.push([deterministicUuid(doc.id, c.position, c.hash), tenantId, doc.id, c.position, c.heading, c.text, c.hash]);
    }
    if (fresh.length > 0) await copyRows(client, 'chunks', ['id', 'tenant_id', 'document_id', 'position', 'heading', 'text', 'hash'], fresh as never);
    const stale = new Map<string, string[]>();
    if (replacedIds.length > 0) {
      await client.query('TRUNCATE incoming_chunks');
      await copyRows(
        client,
        'incoming_chunks',
        ['id', 'document_id', 'position', 'heading', 'text', 'hash'],
        replaced.map((r) => [r[0], r[2], r[3], r[4], r[5], r[6]]) as never,
      );
      // Only documents that existed before can have chunks to drop (xmax = 0 marks a fresh insert).
      const removed = await client.query<{ id: string; document_id: string }>(
        `DELETE FROM chunks c WHERE c.document_id = ANY($1::uuid[]) AND NOT EXISTS (SELECT 1 FROM incoming_chunks i WHERE i.id = c.id) RETURNING c.id, c.document_id`,
        [replacedIds],
      );
      await client.query(
        `INSERT INTO chunks (id, tenant_id, document_id, position, heading, text, hash)
         SELECT i.id, $1, i.document_id, i.position, i.heading, i.text, i.hash FROM incoming_chunks i ORDER BY i.id ON CONFLICT (id) DO NOTHING`,
        [tenantId],
      );
      for (const r of removed.rows) stale.set(r.document_id, [...(stale.get(r.document_id) ?? []), r.id]);
    }
    for (const doc of stored.rows) this.#result.changed.push({ documentId: doc.id, staleChunkIds: stale.get(doc.id) ?? [] });
  }

  /** Deletes record documents by URL, collecting their chunk ids first (the cascade does not report them). */
  async delete(urls: string[]): Promise<void> {
    const unique = [...new Set(urls)].sort();
    await this.#remember(unique);
    for (let i = 0; i < unique.length; i += DELETE_BATCH) {
      const batch = unique.slice(i, i + DELETE_BATCH);
      const chunks = await this.#client.query<{ id: string }>(
        `SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
         WHERE d.knowledge_base_id = $1::uuid AND d.content_type = 'record' AND d.url = ANY($2::text[])`,
        [this.#scope.knowledgeBaseId, batch],
      );
      const docs = await this.#client.query<{ id: string }>(
        `DELETE FROM documents WHERE knowledge_base_id = $1::uuid AND content_type = 'record' AND url = ANY($2::text[]) RETURNING id`,
        [this.#scope.knowledgeBaseId, batch],
      );
      this.#result.deleted.documentIds.push(...docs.rows.map((d) => d.id));
      this.#result.deleted.chunkIds.push(...chunks.rows.map((c) => c.id));
    }
  }

  /**
   * mode=full: deletes the source's records (same knowledge base, content
   * type `record`, same `source`) that this upload did not name (nor, for
   * the final batch of a sync, any earlier batch of the sync), collecting
   * their chunk ids for the vector store. Call once, after the last batch
   * and before {@link commit}, so the deletion lands with the upload or not
   * at all.
   */
  async deleteMissing(): Promise<number> {
    this.#assertOpen();
    if (this.#scope.mode !== 'full') throw new Error('deleteMissing needs a writer opened with mode full');
    const { knowledgeBaseId, source, tenantId, sync } = this.#scope;
    await this.#client.query('ANALYZE seen_urls');
    // A sync's earlier batches are committed, so their URLs are rows here;
    // this batch's are still only in seen_urls.
    const syncSeen = sync ? 'AND NOT EXISTS (SELECT 1 FROM record_sync_urls u WHERE u.tenant_id = $3::uuid AND u.sync_id = $4 AND u.url = d.url)' : '';
    // One statement: its chunk read shares the DELETE's snapshot, so it sees
    // the chunks of exactly the documents deleted (the cascade is invisible
    // to it), whatever a concurrent upload commits in between.
    const gone = await this.#client.query<{ document_id: string; chunk_id: string | null }>(
      `WITH gone AS (
         DELETE FROM documents d WHERE d.knowledge_base_id = $1::uuid AND d.content_type = 'record' AND d.source = $2
           AND NOT EXISTS (SELECT 1 FROM seen_urls s WHERE s.url = d.url) ${syncSeen}
         RETURNING d.id)
       SELECT g.id AS document_id, c.id AS chunk_id FROM gone g LEFT JOIN chunks c ON c.document_id = g.id`,
      sync ? [knowledgeBaseId, source, tenantId, sync.id] : [knowledgeBaseId, source],
    );
    const documentIds = [...new Set(gone.rows.map((r) => r.document_id))];
    this.#result.deleted.documentIds.push(...documentIds);
    this.#result.deleted.chunkIds.push(...gone.rows.flatMap((r) => (r.chunk_id ? [r.chunk_id] : [])));
    return documentIds.length;
  }

  /**
   * A sync's batch, after its rows and before {@link commit}: counts the
   * batch (and its `invalid` rows) into the sync, refusing a finished,
   * expired or mismatched one (`RecordSyncRefused`). A non-final batch's URLs
   * join the sync's; the final batch deletes what the whole sync did not
   * name ({@link deleteMissing}) unless some batch had invalid rows or was
   * rejected (then `deleted` is undefined), and finishes the sync. All in
   * this transaction: a batch rolled back leaves the sync as it was.
   */
  async closeSyncBatch(invalid: number): Promise<{ sync: RecordSyncState; deleted: number | undefined }> {
    this.#assertOpen();
    const { sync, tenantId, knowledgeBaseId, source } = this.#scope;
    if (!sync) throw new Error('closeSyncBatch needs a writer opened with a sync');
    const state = await joinSync(this.#client, { tenantId, knowledgeBaseId, source, sync }, invalid);
    if (!sync.final) {
      await rememberSyncUrls(this.#client, tenantId, sync.id);
      return { sync: state, deleted: undefined };
    }
    const deleted = state.invalid === 0 && state.rejected === 0 ? await this.deleteMissing() : undefined;
    await finishSync(this.#client, tenantId, sync.id);
    return { sync: { ...state, state: 'finished' }, deleted };
  }

  /** Commits everything added; returns what was written. */
  async commit(): Promise<RecordWriteResult> {
    this.#assertOpen();
    this.#finished = true;
    try {
      await this.#client.query('COMMIT');
    } finally {
      this.#client.release();
    }
    return this.#result;
  }

  /** Undoes everything added (idempotent; a no-op after commit). */
  async rollback(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    try {
      await this.#client.query('ROLLBACK');
      this.#client.release();
    } catch (error) {
      // A connection that cannot even roll back is broken: destroy it, never reuse it.
      this.#client.release(error as Error);
    }
  }

  /** mode=full: remembers the record URLs the upload names (by COPY, like the rows). */
  async #remember(urls: string[]): Promise<void> {
    if (this.#scope.mode !== 'full' || urls.length === 0) return;
    await copyRows(
      this.#client,
      'seen_urls',
      ['url'],
      urls.map((u) => [u]),
    );
  }

  #assertOpen(): void {
    if (this.#finished) throw new Error('this record write is already committed or rolled back');
  }
}
