import type { DocumentRepository } from '@kbflow/db';
import type { ChatModel, Embedder } from '@kbflow/embeddings';
import type { JobContext, JobData } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';
import { groupCitations, type Citation, type RetrievedChunk } from '../domain/citations.ts';
import { extractiveAnswer } from '../domain/extractive-answer.ts';
import { llmAnswer } from '../domain/llm-answer.ts';

export interface QueryDeps {
  documents: DocumentRepository;
  embedder: Embedder;
  vectors: VectorStore;
  chat: ChatModel | undefined;
}

export interface Timings {
  queueWaitMs: number;
  embedMs: number;
  retrieveMs: number;
  generateMs?: number;
}

/** How many chunks are fetched per citation asked for: several chunks often share a page. */
const CHUNKS_PER_RESULT = 4;

async function retrieve(query: string, filter: { tenantId: string; knowledgeBaseId: string }, limit: number, deps: QueryDeps, ctx: JobContext) {
  const queueWaitMs = Math.max(0, (ctx.job.processedOn ?? Date.now()) - ctx.job.timestamp);
  let t = performance.now();
  const [vector] = await deps.embedder.embed([query]);
  const embedMs = performance.now() - t;
  t = performance.now();
  const hits = await deps.vectors.search(vector!, filter, limit);
  const rows = await deps.documents.chunksWithDocuments(filter.tenantId, hits.map((h) => h.id));
  const score = new Map(hits.map((h) => [h.id, h.score]));
  const chunks: RetrievedChunk[] = rows.map((r) => ({
    chunkId: r.id,
    documentId: r.documentId,
    url: r.url,
    title: r.title,
    heading: r.heading,
    text: r.text,
    score: score.get(r.id) ?? 0,
  }));
  const retrieveMs = performance.now() - t;
  return { chunks, timings: { queueWaitMs, embedMs: round(embedMs), retrieveMs: round(retrieveMs) } };
}

/** `POST /v1/search`: the best passages, no answer. */
export async function searchChunks(data: JobData<'query', 'search-chunks'>, ctx: JobContext, deps: QueryDeps) {
  const { chunks, timings } = await retrieve(data.query, data, data.topK, deps, ctx);
  return {
    results: chunks.map((c) => ({ chunkId: c.chunkId, documentId: c.documentId, url: c.url, title: c.title, heading: c.heading, text: c.text, score: Number(c.score.toFixed(4)) })),
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
): Promise<{ answer: string; citations: Citation[]; mode: 'llm' | 'extractive'; timings: Timings }> {
  const { chunks, timings } = await retrieve(data.query, data, data.topK * CHUNKS_PER_RESULT, deps, ctx);
  const { citations, sourceIndex } = groupCitations(chunks, data.topK);
  const cited = chunks.filter((c) => sourceIndex.has(c.url));
  const t = performance.now();
  if (deps.chat && cited.length > 0) {
    const answer = await llmAnswer(deps.chat, data.query, cited, sourceIndex);
    return { answer, citations, mode: 'llm', timings: { ...timings, generateMs: round(performance.now() - t) } };
  }
  const answer = extractiveAnswer(data.query, cited, sourceIndex);
  return { answer, citations, mode: 'extractive', timings: { ...timings, generateMs: round(performance.now() - t) } };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
