import type { ChatModel } from '@kbflow/embeddings';
import type { JobContext, JobData } from '@kbflow/queues';
import { groupCitations, type Citation } from '../domain/citations.ts';
import { extractiveAnswer } from '../domain/extractive-answer.ts';
import { llmAnswer } from '../domain/llm-answer.ts';
import { retrieve, type Degraded, type RetrievalDeps, type RetrievalMode, type Timings } from '../retrieval.ts';

export type { RetrievalMode, Timings } from '../retrieval.ts';

export interface QueryDeps extends RetrievalDeps {
  chat: ChatModel | undefined;
}

/** How many chunks are fetched per citation asked for: several chunks often share a page. */
const CHUNKS_PER_RESULT = 4;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** `POST /v1/search`: the best passages, no answer. */
export async function searchChunks(data: JobData<'query', 'search-chunks'>, ctx: JobContext, deps: QueryDeps) {
  const { chunks, timings, degraded } = await retrieve(data, data.topK, deps, ctx);
  return {
    mode: data.mode,
    ...(degraded ? { degraded } : {}),
    results: chunks.map((c) => ({
      chunkId: c.chunkId,
      documentId: c.documentId,
      url: c.url,
      title: c.title,
      heading: c.heading,
      text: c.text,
      contentType: c.contentType,
      source: c.source,
      updatedAt: c.updatedAt.toISOString(),
      score: Number(c.score.toFixed(6)),
    })),
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
): Promise<{ answer: string; citations: Citation[]; answeredBy: 'llm' | 'extractive'; mode: RetrievalMode; degraded?: Degraded; timings: Timings }> {
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
