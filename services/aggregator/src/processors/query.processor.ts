import type { ChatModel } from '@kbflow/embeddings';
import { QueryStreamWriter, watchQueryCancel, type JobContext, type JobData, type Redis } from '@kbflow/queues';
import { groupCitations, pageOf, type Citation, type RetrievedChunk } from '../domain/citations.ts';
import { extractiveSentences } from '../domain/extractive-answer.ts';
import { llmAnswer, llmAnswerStream } from '../domain/llm-answer.ts';
import { retrieve, type Degraded, type RetrievalDeps, type RetrievalMode, type Timings } from '../retrieval.ts';

export interface QueryDeps extends RetrievalDeps {
  chat: ChatModel | undefined;
  /**
   * Where a streamed answer goes (the job's query stream in Redis) and where
   * a cancel request is read from; `stream: true` jobs need it.
   */
  streams?: { redis: Redis; prefix: string; cancelPollMs?: number };
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
    results: chunks.map((c) => {
      const page = pageOf(c);
      return {
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
        ...(page !== undefined ? { page } : {}),
      };
    }),
    timings,
  };
}

export interface QueryResult {
  answer: string;
  citations: Citation[];
  answeredBy: 'llm' | 'extractive';
  mode: RetrievalMode;
  degraded?: Degraded;
  timings: Timings;
  /** Set when the client went away mid-answer and the work stopped (streamed answers only). */
  cancelled?: true;
}

/** Where the pieces of an answer go as they are produced: nowhere for a plain request. */
interface AnswerSink {
  piece: (text: string) => Promise<void>;
  signal: AbortSignal | undefined;
}

/**
 * The answer, piece by piece into `sink`: an LLM's tokens through the
 * provider's streaming API when the model streams and a stream is wanted,
 * else its whole completion; the extractive answer sentence by sentence.
 * The pieces joined are the answer, which is the same whether streamed or
 * not. An LLM that fails before its first token falls back to extractive.
 */
async function generate(
  data: { query: string },
  cited: RetrievedChunk[],
  sourceIndex: Map<string, number>,
  deps: QueryDeps,
  ctx: JobContext,
  sink: AnswerSink | undefined,
): Promise<{ answer: string; answeredBy: 'llm' | 'extractive' }> {
  const chat = deps.chat;
  if (chat && cited.length > 0) {
    const pieces: string[] = [];
    try {
      if (sink && chat.stream) {
        for await (const piece of llmAnswerStream(
          chat as ChatModel & { stream: NonNullable<ChatModel['stream']> },
          data.query,
          cited,
          sourceIndex,
          sink.signal ?? new AbortController().signal,
        )) {
          pieces.push(piece);
          await sink.piece(piece);
        }
        return { answer: pieces.join(''), answeredBy: 'llm' };
      }
      const answer = await llmAnswer(chat, data.query, cited, sourceIndex);
      await sink?.piece(answer);
      return { answer, answeredBy: 'llm' };
    } catch (error) {
      // Half an answer already streamed cannot be taken back: the stream ends with the error.
      if (pieces.length > 0 || sink?.signal?.aborted) throw error;
      // A question still gets an answer when the LLM is down or its breaker
      // is open: the extractive one, from the same passages.
      ctx.log.warn({ err: error }, 'LLM answer failed; answering extractively');
    }
  }
  const sentences = extractiveSentences(data.query, cited, sourceIndex);
  for (const [i, sentence] of sentences.entries()) {
    if (sink?.signal?.aborted) break;
    await sink?.piece(i === 0 ? sentence : ` ${sentence}`);
  }
  return { answer: sentences.join(' '), answeredBy: 'extractive' };
}

/**
 * `POST /v1/query`: retrieve, then answer with citations: an LLM chat
 * completion when one is configured, the extractive answer otherwise. A
 * `stream: true` job also writes its citations, each piece of the answer and
 * its timings to the job's query stream as they are ready, and stops when
 * the api marks the job cancelled (its client went away).
 */
export async function answerQuery(data: JobData<'query', 'answer-query'>, ctx: JobContext, deps: QueryDeps): Promise<QueryResult> {
  const streams = data.stream ? deps.streams : undefined;
  const writer = streams ? new QueryStreamWriter(streams.redis, streams.prefix, String(ctx.job.id)) : undefined;
  const watch = streams ? watchQueryCancel(streams.redis, streams.prefix, String(ctx.job.id), streams.cancelPollMs) : undefined;
  try {
    const { chunks, timings, degraded } = await retrieve(data, data.topK * CHUNKS_PER_RESULT, deps, ctx);
    const { citations, sourceIndex } = groupCitations(chunks, data.topK);
    const cited = chunks.filter((c) => sourceIndex.has(c.url));
    await writer?.write({ event: 'citations', data: { citations, mode: data.mode, ...(degraded ? { degraded } : {}) } });
    const t = performance.now();
    const sink = writer ? { piece: (text: string) => writer.write({ event: 'answer', data: { text } }), signal: watch?.signal } : undefined;
    let generated: { answer: string; answeredBy: 'llm' | 'extractive' };
    try {
      generated = await generate(data, cited, sourceIndex, deps, ctx, sink);
    } catch (error) {
      if (!watch?.signal.aborted) throw error;
      generated = { answer: '', answeredBy: deps.chat ? 'llm' : 'extractive' };
    }
    const result: QueryResult = {
      answer: generated.answer,
      citations,
      answeredBy: generated.answeredBy,
      mode: data.mode,
      ...(degraded ? { degraded } : {}),
      timings: { ...timings, generateMs: round(performance.now() - t) },
    };
    if (watch?.signal.aborted) {
      ctx.log.info({ jobId: ctx.job.id }, 'query cancelled by its client');
      return { ...result, cancelled: true };
    }
    await writer?.write({ event: 'done', data: { answeredBy: result.answeredBy, timings: { ...result.timings } } });
    return result;
  } catch (error) {
    await writer?.write({ event: 'error', data: { error: { code: 'answer_failed', message: (error as Error).message } } }).catch(() => undefined);
    throw error;
  } finally {
    watch?.stop();
  }
}
