import type { DocumentRepository } from '@kbflow/db';
import type { ChatModel, Embedder } from '@kbflow/embeddings';
import type { JobContext, JobData } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';
import { groupCitations, type Citation, type RetrievedChunk } from '../domain/citations.ts';
import { extractiveAnswer } from '../domain/extractive-answer.ts';
import { llmAnswer } from '../domain/llm-answer.ts';
import { reciprocalRankFusion } from '../domain/rank-fusion.ts';

export interface QueryDeps {
  documents: DocumentRepository;
  embedder: Embedder;
  vectors: VectorStore;
  chat: ChatModel | undefined;
}

export type RetrievalMode = 'hybrid' | 'vector' | 'keyword';

export interface Timings {
  queueWaitMs: number;
  embedMs: number;
  retrieveMs: number;
  generateMs?: number;
}

/** How many chunks are fetched per citation asked for: several chunks often share a page. */
const CHUNKS_PER_RESULT = 4;
/** Each list fed to the fusion is this much deeper than the result, so fusion has overlap to work with. */
const FUSION_DEPTH = 3;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Retrieval: vector search, PostgreSQL full-text search, or both fused by
 * Reciprocal Rank Fusion (the default). Scores are cosine similarity for
 * `vector`, ts_rank_cd for `keyword` and the fused RRF score for `hybrid`.
 */
async function retrieve(
  input: { query: string; tenantId: string; knowledgeBaseId: string; mode: RetrievalMode },
  limit: number,
  deps: QueryDeps,
  ctx: JobContext,
): Promise<{ chunks: RetrievedChunk[]; timings: Timings; degraded?: 'keyword-only' }> {
  const queueWaitMs = Math.max(0, (ctx.job.processedOn ?? Date.now()) - ctx.job.timestamp);
  const filter = { tenantId: input.tenantId, knowledgeBaseId: input.knowledgeBaseId };
  const depth = input.mode === 'hybrid' ? limit * FUSION_DEPTH : limit;
  let embedMs = 0;
  let t = performance.now();

  const vectorHits = async () => {
    const [vector] = await deps.embedder.embed([input.query]);
    embedMs = performance.now() - t;
    return deps.vectors.search(vector!, filter, depth);
  };
  // When the vector store (or the embedder) fails, the answer comes from
  // PostgreSQL full-text search alone, and the response says so.
  let degraded: 'keyword-only' | undefined;
  const vectorOrFallback = async () => {
    try {
      return await vectorHits();
    } catch (error) {
      ctx.log.warn({ err: error }, 'vector search failed; answering from keyword search only');
      degraded = 'keyword-only';
      return [];
    }
  };
  const keywordSearch = () => deps.documents.keywordSearch(filter, input.query, depth);
  const [vectorList, keywordFirst] = await Promise.all([
    input.mode === 'keyword' ? Promise.resolve([]) : vectorOrFallback(),
    input.mode === 'vector' ? Promise.resolve(undefined) : keywordSearch(),
  ]);
  const keywordList = keywordFirst ?? (degraded ? await keywordSearch() : []);
  t = performance.now() - t;

  let ranked: { id: string; score: number }[];
  if (input.mode === 'keyword' || degraded) ranked = keywordList.map((h) => ({ id: h.id, score: h.rank }));
  else if (input.mode === 'vector') ranked = vectorList.map((h) => ({ id: h.id, score: h.score }));
  else ranked = reciprocalRankFusion([vectorList.map((h) => h.id), keywordList.map((h) => h.id)]);
  ranked = ranked.slice(0, limit);

  const started = performance.now();
  const rows = await deps.documents.chunksWithDocuments(input.tenantId, ranked.map((r) => r.id));
  const score = new Map(ranked.map((r) => [r.id, r.score]));
  const chunks: RetrievedChunk[] = rows.map((r) => ({
    chunkId: r.id,
    documentId: r.documentId,
    url: r.url,
    title: r.title,
    heading: r.heading,
    text: r.text,
    score: score.get(r.id) ?? 0,
  }));
  const retrieveMs = t - embedMs + (performance.now() - started);
  return { chunks, timings: { queueWaitMs, embedMs: round(embedMs), retrieveMs: round(retrieveMs) }, ...(degraded ? { degraded } : {}) };
}

/** `POST /v1/search`: the best passages, no answer. */
export async function searchChunks(data: JobData<'query', 'search-chunks'>, ctx: JobContext, deps: QueryDeps) {
  const { chunks, timings, degraded } = await retrieve(data, data.topK, deps, ctx);
  return {
    mode: data.mode,
    ...(degraded ? { degraded } : {}),
    results: chunks.map((c) => ({ chunkId: c.chunkId, documentId: c.documentId, url: c.url, title: c.title, heading: c.heading, text: c.text, score: Number(c.score.toFixed(6)) })),
    timings,
  };
}

/**
 * `POST /v1/query`: retrieve, then answer with citations: an LLM chat
 * completion when one is configured, the extractive answer otherwise.
 */
export async function answerQuery(
  data: JobData<'query', 'answer-query'>,
  ctx: JobContext,
  deps: QueryDeps,
): Promise<{ answer: string; citations: Citation[]; answeredBy: 'llm' | 'extractive'; mode: RetrievalMode; degraded?: 'keyword-only'; timings: Timings }> {
  const { chunks, timings, degraded } = await retrieve(data, data.topK * CHUNKS_PER_RESULT, deps, ctx);
  const { citations, sourceIndex } = groupCitations(chunks, data.topK);
  const cited = chunks.filter((c) => sourceIndex.has(c.url));
  const t = performance.now();
  let answer: string | undefined;
  let useLlm = deps.chat !== undefined && cited.length > 0;
  if (useLlm) {
    try {
      answer = await llmAnswer(deps.chat!, data.query, cited, sourceIndex);
    } catch (error) {
      // A question still gets an answer when the LLM is down or its breaker
      // is open: the extractive one, from the same passages.
      ctx.log.warn({ err: error }, 'LLM answer failed; answering extractively');
      useLlm = false;
    }
  }
  answer ??= extractiveAnswer(data.query, cited, sourceIndex);
  return {
    answer,
    citations,
    answeredBy: useLlm ? 'llm' : 'extractive',
    mode: data.mode,
    ...(degraded ? { degraded } : {}),
    timings: { ...timings, generateMs: round(performance.now() - t) },
  };
}
