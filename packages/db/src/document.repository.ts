import { TRANSACTION_OPTIONS, type Db } from './client.ts';
import { planChunks } from './chunk-reuse.ts';
import { CHUNK_NOT_INDEXED } from './indexed-chunks.ts';
import { boundedKeywordSearch, type KeywordSearchResult } from './keyword-search.ts';
import { scopeConditions, type SearchScope } from './search-scope.ts';
import type { ContentType } from './content-type.ts';

export interface ChunkInput {
  position: number;
  heading: string;
  text: string;
  hash: string;
}

/** A page's HTTP validators (either may be absent) and its outgoing links. */
export interface PageValidators {
  etag: string | null;
  lastModified: string | null;
  /** Normalized, deduplicated, before any crawl's scope filter. */
  links: string[];
}

/** A stored page as a recrawl sees it. */
export interface StoredPage {
  documentId: string;
  /** Its stored links (empty when none were stored). */
  links: string[];
  /** Set when a conditional request may be sent (the page is indexed and its links are stored). */
  validators?: { etag: string | null; lastModified: string | null };
  /** When it was last fetched, set when the page is indexed and its links stored (a sitemap lastmod before it skips the fetch). */
  fetchedAt?: Date;
}

/** A page's document row as {@link DocumentRepository.storedPage} and `TaskRepository.scrapeContext` read it. */
export interface StoredPageRow {
  id: string;
  etag: string | null;
  lastModified: string | null;
  links: string[] | null;
  status: string;
  fetchedAt: Date | null;
}

/** What a recrawl may use of a stored page: its links always, its validators and fetch time only once it is indexed with its links. */
export function storedPageOf(row: StoredPageRow): StoredPage {
  const complete = row.status === 'indexed' && row.links !== null;
  const conditional = complete && (row.etag !== null || row.lastModified !== null);
  return {
    documentId: row.id,
    links: row.links ?? [],
    ...(conditional ? { validators: { etag: row.etag, lastModified: row.lastModified } } : {}),
    ...(complete && row.fetchedAt ? { fetchedAt: row.fetchedAt } : {}),
  };
}

/** Documents removed, and their chunks' ids (the vectors to delete). */
export interface RemovedDocuments {
  documentIds: string[];
  chunkIds: string[];
}

export interface StoreResult {
  documentId: string;
  /** False when the content hash matched an already indexed document. */
  changed: boolean;
  /** True when an earlier version existed (its stale vectors may need removing). */
  replaced: boolean;
  /** Chunks that still need a vector (new or never indexed). */
  pendingChunkIds: string[];
  /** Every current chunk id of the document (vectors of other ids are stale). */
  chunkIds: string[];
}

export interface ChunkWithDocument {
  id: string;
  documentId: string;
  heading: string;
  text: string;
  /** SHA-256 of the text. */
  hash: string;
  position: number;
  url: string;
  title: string;
  contentType: string;
  source: string;
  updatedAt: Date;
}

/** Documents and their chunks. */
export class DocumentRepository {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Stores a fetched document and its chunks. Unchanged content (same hash,
   * already indexed) is left alone, but for a page's validators and links,
   * which the server may change without the content; changed content
   * replaces the chunks in one transaction, keeping every chunk whose text
   * is the same (see {@link planChunks}), so only new text is embedded again.
   */
  async store(input: {
    tenantId: string;
    knowledgeBaseId: string;
    url: string;
    title: string;
    markdown: string;
    contentHash: string;
    contentType: ContentType;
    /** Filterable origin: a page's host, a record feed's name (`documents.source`). */
    source?: string;
    chunks: ChunkInput[];
    /** Pages: the response's validators and outgoing links (what a 304 on the next crawl relies on). */
    page?: PageValidators;
  }): Promise<StoreResult> {
    return this.db.$transaction(async (tx) => {
      const existing = await tx.document.findUnique({
        where: { knowledgeBaseId_url: { knowledgeBaseId: input.knowledgeBaseId, url: input.url } },
        select: { id: true, contentHash: true, status: true },
      });
      const pageFields = input.page ? { etag: input.page.etag, lastModified: input.page.lastModified, links: input.page.links } : {};
      if (existing && existing.contentHash === input.contentHash && existing.status === 'indexed') {
        if (input.page) await tx.document.update({ where: { id: existing.id }, data: { ...pageFields, fetchedAt: new Date() }, select: { id: true } });
        return { documentId: existing.id, changed: false, replaced: false, pendingChunkIds: [], chunkIds: [] };
      }
      const doc = await tx.document.upsert({
        where: { knowledgeBaseId_url: { knowledgeBaseId: input.knowledgeBaseId, url: input.url } },
        create: {
          tenantId: input.tenantId,
          knowledgeBaseId: input.knowledgeBaseId,
          url: input.url,
          title: input.title,
          markdown: input.markdown,
          contentHash: input.contentHash,
          contentType: input.contentType,
          source: input.source ?? '',
          status: 'indexing',
          fetchedAt: new Date(),
          ...pageFields,
        },
        update: {
          title: input.title,
          markdown: input.markdown,
          contentHash: input.contentHash,
          ...(input.source !== undefined ? { source: input.source } : {}),
          status: 'indexing',
          fetchedAt: new Date(),
          ...pageFields,
        },
        select: { id: true },
      });
      const before = existing ? await tx.chunk.findMany({ where: { documentId: doc.id }, select: { id: true, position: true, hash: true } }) : [];
      const { planned, removedIds } = planChunks(doc.id, before, input.chunks);
      if (removedIds.length > 0) await tx.chunk.deleteMany({ where: { id: { in: removedIds } } });
      const moved = planned.flatMap((p, i) => (p.moved ? [{ id: p.id, position: p.position, heading: input.chunks[i]!.heading }] : []));
      if (moved.length > 0) {
        await tx.$executeRaw`
          UPDATE chunks c SET position = m.position, heading = m.heading
          FROM unnest(${moved.map((m) => m.id)}::uuid[], ${moved.map((m) => m.position)}::int[], ${moved.map((m) => m.heading)}::text[]) AS m(id, position, heading)
          WHERE c.id = m.id`;
      }
      const rows = planned.flatMap((p, i) => {
        if (p.reused) return [];
        const c = input.chunks[i]!;
        return [{ id: p.id, tenantId: input.tenantId, documentId: doc.id, position: c.position, heading: c.heading, text: c.text, hash: c.hash }];
      });
      if (rows.length > 0) await tx.chunk.createMany({ data: rows, skipDuplicates: true });
      const pending = await tx.$queryRaw<
        { id: string }[]
      >`SELECT c.id FROM chunks c WHERE c.document_id = ${doc.id}::uuid AND ${CHUNK_NOT_INDEXED} ORDER BY c.position`;
      return { documentId: doc.id, changed: true, replaced: existing !== null, pendingChunkIds: pending.map((p) => p.id), chunkIds: planned.map((p) => p.id) };
    }, TRANSACTION_OPTIONS);
  }

  /**
   * What a recrawl of `url` for task `taskId` may send as a conditional
   * request: the stored page's validators, only when it is indexed and its
   * links are stored (a 304 answered to anything else would leave a page
   * half-indexed, or a frontier unexpanded). One statement, the task's
   * knowledge base joined in, so it runs beside the task's own reads.
   */
  async storedPage(taskId: string, url: string): Promise<StoredPage | undefined> {
    const [row] = await this.db.$queryRaw<
      { id: string; etag: string | null; lastModified: string | null; links: string[] | null; status: string; fetchedAt: Date | null }[]
    >`
      SELECT d.id, d.etag, d.last_modified AS "lastModified", d.links, d.status, d.fetched_at AS "fetchedAt"
      FROM tasks t JOIN documents d ON d.knowledge_base_id = t.knowledge_base_id
      WHERE t.id = ${taskId}::uuid AND d.url = ${url} AND d.content_type = 'page'`;
    return row ? storedPageOf(row) : undefined;
  }

  /**
   * Removes a page (404/410, or redirected out of its crawl's scope) with
   * its chunks; returns their ids for the vector store, or undefined when
   * there was no such page.
   */
  async deletePage(knowledgeBaseId: string, url: string): Promise<RemovedDocuments | undefined> {
    // One statement (the chunks go by the foreign key's cascade, their ids
    // read from the same snapshot): every dead link of every crawl asks
    // this, and almost none has a document, so it costs one round trip
    // instead of a transaction's four.
    const [row] = await this.db.$queryRaw<{ id: string; chunk_ids: string[] }[]>`
      WITH doc AS (
        DELETE FROM documents WHERE knowledge_base_id = ${knowledgeBaseId}::uuid AND url = ${url} AND content_type = 'page' RETURNING id
      )
      SELECT doc.id::text AS id, ARRAY(SELECT c.id::text FROM chunks c WHERE c.document_id = doc.id ORDER BY c.id) AS chunk_ids FROM doc`;
    return row ? { documentIds: [row.id], chunkIds: row.chunk_ids } : undefined;
  }

  /**
   * deleteUnreached: removes the pages of the task's knowledge base that lie
   * within `scope` and that the task has no page row for (it never reached
   * them), with their chunks; returns their ids for the vector store.
   * A page is within scope when its URL starts with one of the scope's
   * prefixes (see {@link crawlScopePrefixes}) and, when the crawl had
   * include/exclude path patterns, `inScope` accepts it: a page the patterns
   * kept the crawl away from was not reached, but it is not the crawl's to
   * remove (it may belong to another source of the knowledge base).
   */
  async deleteUnreached(
    taskId: string,
    knowledgeBaseId: string,
    prefixes: string[],
    inScope: (url: string) => boolean = () => true,
  ): Promise<RemovedDocuments> {
    if (prefixes.length === 0) return { documentIds: [], chunkIds: [] };
    return this.db.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; url: string }[]>`
        SELECT d.id, d.url FROM documents d
        WHERE d.knowledge_base_id = ${knowledgeBaseId}::uuid AND d.content_type = 'page'
          AND EXISTS (SELECT 1 FROM unnest(${prefixes}::text[]) AS p(prefix) WHERE left(d.url, length(p.prefix)) = p.prefix)
          AND NOT EXISTS (SELECT 1 FROM task_pages tp WHERE tp.task_id = ${taskId}::uuid AND tp.url = d.url)
        FOR UPDATE`;
      const docs = rows.filter((row) => inScope(row.url));
      if (docs.length === 0) return { documentIds: [], chunkIds: [] };
      const ids = docs.map((d) => d.id);
      const chunks = await tx.chunk.findMany({ where: { documentId: { in: ids } }, select: { id: true } });
      await tx.document.deleteMany({ where: { id: { in: ids } } });
      return { documentIds: ids, chunkIds: chunks.map((c) => c.id) };
    }, TRANSACTION_OPTIONS);
  }

  /**
   * Refreshes the planner's statistics of the tables a crawl or an ingest
   * writes (documents, chunks and their indexed state, the task's page
   * rows). ANALYZE samples a fixed number of rows, so it costs about the
   * same on any table size (tens to a few hundred ms); without it, fresh
   * tables are planned as empty until autovacuum gets to them, if it is on
   * at all.
   */
  async refreshStatistics(): Promise<void> {
    await this.db.$executeRawUnsafe('ANALYZE documents, chunks, indexed_chunks, task_pages');
  }

  /** Chunks by id within a tenant (a job can never read another tenant's rows). */
  async chunksForEmbedding(
    tenantId: string,
    ids: string[],
  ): Promise<{ id: string; documentId: string; text: string; knowledgeBaseId: string; contentType: string }[]> {
    const rows = await this.db.chunk.findMany({
      where: { tenantId, id: { in: ids } },
      select: { id: true, documentId: true, text: true, document: { select: { knowledgeBaseId: true, contentType: true } } },
      orderBy: { position: 'asc' },
    });
    return rows.map((r) => ({ id: r.id, documentId: r.documentId, text: r.text, ...r.document }));
  }

  async markChunksIndexed(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // Chunks deleted meanwhile (their page rewritten) are skipped, as an update of their rows would have been.
    await this.db.$executeRaw`
      INSERT INTO indexed_chunks (chunk_id, tenant_id)
      SELECT c.id, c.tenant_id FROM chunks c WHERE c.id = ANY(${ids}::uuid[])
      ON CONFLICT (chunk_id) DO UPDATE SET indexed_at = EXCLUDED.indexed_at`;
  }

  /**
   * Marks a document indexed when all its chunks are; returns the current
   * chunk ids (for removing stale vectors) and whether it is complete.
   */
  async completeDocument(documentId: string): Promise<{ complete: boolean; chunkIds: string[]; tenantId: string } | undefined> {
    const doc = await this.db.document.findUnique({ where: { id: documentId }, select: { tenantId: true } });
    if (!doc) return undefined;
    const chunks = await this.db.chunk.findMany({ where: { documentId }, select: { id: true, indexed: { select: { chunkId: true } } } });
    const complete = chunks.every((c) => c.indexed !== null);
    if (complete) await this.db.document.update({ where: { id: documentId }, data: { status: 'indexed', indexedAt: new Date() } });
    return { complete, chunkIds: chunks.map((c) => c.id), tenantId: doc.tenantId };
  }

  /**
   * Full-text search over chunks with PostgreSQL (`ts_rank`, heading
   * weighted above body), within `scope` (tenant, knowledge base and its
   * filters). Terms are OR-ed: a question's words rarely all occur in the
   * passage that answers it, and the ranking rewards passages that match
   * more of them.
   *
   * `ts_rank`, not `ts_rank_cd`: on an OR query `ts_rank` sums each query
   * term's weight with repeats of one term damped (1/n²), so passages that
   * match more distinct question words rank first; `ts_rank_cd` scores
   * every occurrence of any term by cover density, so a passage repeating
   * the product's name ranked above the one about the question. On the RHDH
   * question set (`./kbflow eval`) keyword hit@5 went from 0.54 to 0.70 and
   * hybrid from 0.67 to 0.77. Bounded at scale: see {@link boundedKeywordSearch}.
   */
  async keywordSearch(scope: SearchScope, query: string, limit: number, opts: { budgetMs?: number } = {}): Promise<KeywordSearchResult> {
    return boundedKeywordSearch(this.db, scope, query, limit, opts);
  }

  /**
   * The ids among `ids` whose chunk lies within `scope`, as a set: vector
   * hits are checked here for the filters the vector store does not hold.
   */
  async chunkIdsInScope(scope: SearchScope, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE c.id = ANY(${ids}::uuid[]) AND c.tenant_id = ${scope.tenantId}::uuid AND ${scopeConditions(scope)}`;
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Chunks with their document, in the order of `ids`, re-read within
   * `scope`: an id outside the tenant, the knowledge base or the filters is
   * left out, whatever list it came from.
   */
  async chunksWithDocuments(scope: SearchScope, ids: string[]): Promise<ChunkWithDocument[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.$queryRaw<ChunkWithDocument[]>`
      SELECT c.id, c.document_id AS "documentId", c.heading, c.text, c.hash, c.position,
             d.url, d.title, d.content_type AS "contentType", d.source, d.updated_at AS "updatedAt"
      FROM chunks c JOIN documents d ON d.id = c.document_id
      WHERE c.id = ANY(${ids}::uuid[]) AND c.tenant_id = ${scope.tenantId}::uuid AND ${scopeConditions(scope)}`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [r] : [];
    });
  }

  /** Makes documents part of an ingest task (uploads): its progress counts them as they are indexed. */
  async attachToTask(tenantId: string, documentIds: string[], taskId: string): Promise<void> {
    if (documentIds.length === 0) return;
    await this.db.document.updateMany({ where: { tenantId, id: { in: documentIds } }, data: { taskId } });
  }

  /**
   * The documents-per-knowledge-base quota over an upload: of `urls`, those
   * that may be stored, in order. A URL already a document of the knowledge
   * base replaces it and costs nothing; a new one costs one of the room left
   * (`maxDocuments` less the documents it holds). Not serialized with other
   * writers into the same knowledge base at the same moment (a crawl, a
   * record upload): together they may overshoot by what they store
   * concurrently, as the crawl's and the records' checks do.
   */
  async admittedByQuota(knowledgeBaseId: string, urls: string[], maxDocuments: number): Promise<Set<string>> {
    if (urls.length === 0) return new Set();
    const known = await this.db.$queryRaw<
      { url: string }[]
    >`SELECT url FROM documents WHERE knowledge_base_id = ${knowledgeBaseId}::uuid AND url = ANY(${urls}::text[])`;
    const admitted = new Set(known.map((r) => r.url));
    if (urls.every((url) => admitted.has(url))) return admitted;
    let room = maxDocuments - (await this.db.document.count({ where: { knowledgeBaseId } }));
    for (const url of urls) {
      if (admitted.has(url)) continue;
      if (room <= 0) continue;
      admitted.add(url);
      room -= 1;
    }
    return admitted;
  }
}
