import { hasDocumentOnlyFilters, type DocumentRepository, type SearchScope } from '@kbflow/db';
import type { Embedder } from '@kbflow/embeddings';
import type { JobContext, RetrievalFilters } from '@kbflow/queues';
import { MAX_SEARCH_LIMIT, type VectorFilter, type VectorHit, type VectorStore } from '@kbflow/vector-store';
import type { RetrievedChunk } from './domain/citations.ts';
import { maximalMarginalRelevance } from './domain/mmr.ts';
import { collapseNearDuplicates } from './domain/near-duplicates.ts';
import { reciprocalRankFusion } from './domain/rank-fusion.ts';

export interface RetrievalDeps {
  documents: DocumentRepository;
  embedder: Embedder;
  vectors: VectorStore;
  /**
   * Hybrid mode's time budget for the full-text half, ms
   * (`KBFLOW_KEYWORD_BUDGET_MS`; undefined: none). Past it the passages the
   * finished stages found are fused with the vector list and the result
   * says `degraded: 'keyword-partial'`. Keyword mode, and hybrid answered by
   * keyword search alone, are never cut: there is nothing else to answer.
   */
  keywordBudgetMs?: number | undefined;
}

export type RetrievalMode = 'hybrid' | 'vector' | 'keyword';

export interface RetrievalRequest {
  tenantId: string;
  knowledgeBaseId: string;
  query: string;
  mode: RetrievalMode;
  filters: RetrievalFilters;
  collapseDuplicates: boolean;
  diversity: number;
}

export interface Timings {
  queueWaitMs: number;
  embedMs: number;
  retrieveMs: number;
  generateMs?: number;
}

export interface Retrieval {
  /** Best first (by score, or in MMR order when diversifying). */
  chunks: RetrievedChunk[];
  timings: Timings;
  degraded?: Degraded;
}

/** Why a result is not the full hybrid one: the vector half failed, or the keyword half ran out of its budget. */
export type Degraded = 'keyword-only' | 'keyword-partial';

/** Each list fed to the fusion is this much deeper than the candidate pool, so fusion has overlap to work with. */
const FUSION_DEPTH = 3;
/**
 * Candidates read back for collapsing and MMR, as a multiple of the result
 * (at most 50 more): room to drop duplicates and still fill the result, and
 * a choice for MMR.
 */
const RERANK_POOL = 2;
const RERANK_POOL_EXTRA_MAX = 50;
/**
 * Vector search over-fetch when sources or dates narrow the search: the
 * vector store pre-filters by tenant, knowledge base and content type, but
 * holds neither a document's source nor its dates, so those filters are
 * applied by checking the nearest vectors against PostgreSQL (documents
 * join). The trade-off is recall: when fewer than 1 in 5 of the nearest
 * vectors pass, the store is asked again 4x deeper, up to its 1,000-result
 * cap; past that, a very narrow filter can miss vector hits (keyword search
 * filters in SQL and still finds them). Putting source and dates into the
 * vector payload would avoid this but costs a payload rewrite of every
 * vector of a document whenever its row changes (`updated_at` moves on
 * every re-scrape, even when no chunk does).
 */
const VECTOR_OVERFETCH = 5;
const VECTOR_OVERFETCH_GROWTH = 4;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Retrieval for `answer-query` and `search-chunks`: vector search,
 * PostgreSQL full-text search, or both fused by Reciprocal Rank Fusion (the
 * default), within the tenant, the knowledge base and the filters. The
 * candidates are always re-read from PostgreSQL under that scope, so no row
 * of another tenant, knowledge base, type, source or date range can come
 * back whatever a list returned; then near-duplicates are collapsed and,
 * with `diversity` > 0, the list is reordered by MMR. Scores are cosine
 * similarity for `vector`, the full-text rank for `keyword` and the RRF score for
 * `hybrid`. When the vector store (or the embedder) fails, the result comes
 * from full-text search alone and says so (`degraded`).
 */
export async function retrieve(input: RetrievalRequest, limit: number, deps: RetrievalDeps, ctx: JobContext): Promise<Retrieval> {
  const queueWaitMs = Math.max(0, (ctx.job.processedOn ?? Date.now()) - ctx.job.timestamp);
  const started = performance.now();
  const scope: SearchScope = { tenantId: input.tenantId, knowledgeBaseId: input.knowledgeBaseId, ...input.filters };
  const reranks = input.collapseDuplicates || input.diversity > 0;
  const poolSize = reranks ? Math.min(limit * RERANK_POOL, limit + RERANK_POOL_EXTRA_MAX) : limit;
  const depth = Math.min(input.mode === 'hybrid' ? poolSize * FUSION_DEPTH : poolSize, MAX_SEARCH_LIMIT);

  let embedMs = 0;
  let degraded: Degraded | undefined;
  let queryVector: number[] | undefined;
  const vectorFilter: VectorFilter = {
    tenantId: input.tenantId,
    knowledgeBaseId: input.knowledgeBaseId,
    ...(input.filters.contentTypes ? { contentTypes: input.filters.contentTypes } : {}),
  };
  // The nearest `k` vectors, or undefined when the embedder or the vector
  // store failed: then the answer comes from keyword search and says so.
  // PostgreSQL errors are not caught here; they fail the job like any other.
  const nearest = async (k: number): Promise<VectorHit[] | undefined> => {
    try {
      if (!queryVector) {
        const t = performance.now();
        [queryVector] = await deps.embedder.embed([input.query], { tenantId: input.tenantId });
        embedMs = performance.now() - t;
      }
      return await deps.vectors.search(queryVector!, vectorFilter, k);
    } catch (error) {
      ctx.log.warn({ err: error }, 'vector search failed; answering from keyword search only');
      degraded = 'keyword-only';
      return undefined;
    }
  };
  const vectorSearch = async (): Promise<VectorHit[]> => {
    if (!hasDocumentOnlyFilters(scope)) return (await nearest(depth)) ?? [];
    let k = Math.min(depth * VECTOR_OVERFETCH, MAX_SEARCH_LIMIT);
    for (;;) {
      const hits = await nearest(k);
      if (!hits) return [];
      const inScope = await deps.documents.chunkIdsInScope(
        scope,
        hits.map((h) => h.id),
      );
      const kept = hits.filter((h) => inScope.has(h.id));
      // Enough passed, the store has no more, or its cap is reached.
      if (kept.length >= depth || hits.length < k || k >= MAX_SEARCH_LIMIT) return kept.slice(0, depth);
      k = Math.min(k * VECTOR_OVERFETCH_GROWTH, MAX_SEARCH_LIMIT);
    }
  };
  const keywordSearch = (budgetMs?: number) => deps.documents.keywordSearch(scope, input.query, depth, budgetMs === undefined ? {} : { budgetMs });

  const [vectorList, keywordFirst] = await Promise.all([
    input.mode === 'keyword' ? Promise.resolve([]) : vectorSearch(),
    input.mode === 'vector' ? Promise.resolve(undefined) : keywordSearch(input.mode === 'hybrid' ? deps.keywordBudgetMs : undefined),
  ]);
  let keywordList = keywordFirst?.hits ?? [];
  if (degraded && (!keywordFirst || !keywordFirst.complete)) keywordList = (await keywordSearch()).hits;
  else if (keywordFirst && !keywordFirst.complete) {
    degraded = 'keyword-partial';
    ctx.log.info({ budgetMs: deps.keywordBudgetMs, keywordHits: keywordList.length }, 'keyword search ran out of its budget; fusing what it found');
  }

  let ranked: { id: string; score: number }[];
  if (input.mode === 'keyword' || degraded === 'keyword-only') ranked = keywordList.map((h) => ({ id: h.id, score: h.rank }));
  else if (input.mode === 'vector') ranked = vectorList.map((h) => ({ id: h.id, score: h.score }));
  else ranked = reciprocalRankFusion([vectorList.map((h) => h.id), keywordList.map((h) => h.id)]);
  ranked = ranked.slice(0, poolSize);

  const score = new Map(ranked.map((r) => [r.id, r.score]));
  const rows = await deps.documents.chunksWithDocuments(
    scope,
    ranked.map((r) => r.id),
  );
  let chunks: RetrievedChunk[] = rows.map((r) => ({
    chunkId: r.id,
    documentId: r.documentId,
    url: r.url,
    title: r.title,
    heading: r.heading,
    text: r.text,
    hash: r.hash,
    contentType: r.contentType,
    source: r.source,
    updatedAt: r.updatedAt,
    score: score.get(r.id) ?? 0,
  }));
  if (input.collapseDuplicates) chunks = collapseNearDuplicates(chunks).kept;
  chunks = maximalMarginalRelevance(chunks, limit, input.diversity);

  const retrieveMs = performance.now() - started - embedMs;
  return { chunks, timings: { queueWaitMs, embedMs: round(embedMs), retrieveMs: round(retrieveMs) }, ...(degraded ? { degraded } : {}) };
}
