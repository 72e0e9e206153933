import type { TenantRepository } from '@kbflow/db';
import { decodeError } from '@kbflow/errors';
import { Priority, QueueName, readQueryStreamEvents, requestQueryCancel, type JobProducer, type Redis } from '@kbflow/queues';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes, type RouteInput } from '../http/route-registry.ts';
import { embeddings, queryAnswer, searchResults } from './responses.ts';
import type { SearchLogWriter } from '../search-log-writer.ts';
import { embedBody, queryBody, searchBody } from './schemas.ts';

export interface QueryRouteDeps {
  tenants: TenantRepository;
  producer: JobProducer;
  /** Streamed answers are read from Redis (one duplicated connection per stream) and cancelled through it. */
  redis: Redis;
  events: { query: QueueEvents };
  timeoutMs: number;
  /** Where answered searches and queries are logged (`/v1/search/analytics`); nothing is logged without it. */
  searchLog?: SearchLogWriter | undefined;
}

type RetrievalBody = Pick<z.output<typeof searchBody>, 'mode' | 'contentTypes' | 'sources' | 'since' | 'until' | 'collapseDuplicates' | 'diversity'>;

/** The filters of a request as the job catalog (and the search log) take them: only those given. */
function filtersOf(body: RetrievalBody) {
  return {
    ...(body.contentTypes ? { contentTypes: body.contentTypes } : {}),
    ...(body.sources ? { sources: body.sources } : {}),
    ...(body.since ? { since: body.since } : {}),
    ...(body.until ? { until: body.until } : {}),
  };
}

function retrievalOptions(body: RetrievalBody) {
  return { mode: body.mode, filters: filtersOf(body), collapseDuplicates: body.collapseDuplicates, diversity: body.diversity };
}

/**
 * Waits for a job the request enqueued. On timeout the job is left to finish
 * (its result is simply not awaited) and the client gets a 504.
 */
async function awaitJob<T>(job: Job, events: QueueEvents, timeoutMs: number): Promise<T> {
  try {
    return (await job.waitUntilFinished(events, timeoutMs)) as T;
  } catch (error) {
    const message = (error as Error).message;
    if (/timed out/i.test(message)) throw new ApiError(504, 'timeout', `no answer within ${timeoutMs} ms`);
    const { code, message: detail } = decodeError(message);
    throw new ApiError(502, code, detail);
  }
}

/** Pauses between two reads of a polled job's state, ms: fast at first, then at most 10 reads a second. */
const POLL_DELAYS_MS = [2, 5, 10, 20, 40, 70, 100];

/**
 * Waits for a job by reading its state, for queues whose event stream the
 * api does not follow. The embed queue's stream carries every bulk job's
 * events, each embed-texts result with its vectors: following it cost the api
 * about 200 MB and a share of a core during a 50,000-job backfill although no
 * request was waiting (kbflow issue 6, memory). A request polls its one job
 * instead, at most 10 times a second once the job has run 250 ms.
 */
async function pollJob<T>(queue: Queue, id: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') {
      const done = await queue.getJob(id);
      if (!done) break;
      if (state === 'completed') return done.returnvalue as T;
      const { code, message } = decodeError(done.failedReason);
      throw new ApiError(502, code, message);
    }
    // Removed while we waited (trimmed by age): nothing left to read.
    if (state === 'unknown') break;
    if (Date.now() >= deadline) throw new ApiError(504, 'timeout', `no answer within ${timeoutMs} ms`);
    await sleep(Math.min(POLL_DELAYS_MS[Math.min(i, POLL_DELAYS_MS.length - 1)]!, Math.max(1, deadline - Date.now())));
  }
  throw new ApiError(502, 'job_gone', `job ${id} was removed before its result was read`);
}

/** Synchronous endpoints: each enqueues a CRITICAL (or HIGH) job and waits for its result. */
export function queryRoutes(deps: QueryRouteDeps): ApiRoutes {
  const router = new ApiRoutes();

  const knowledgeBaseOf = async (tenantId: string, slug: string) => {
    const id = await deps.tenants.findKnowledgeBaseId(tenantId, slug);
    if (!id) throw new ApiError(404, 'knowledge_base_not_found', `no knowledge base "${slug}"`, { field: 'knowledgeBase' });
    return id;
  };

  // Logged after the answer is sent: the writer only buffers, so the log
  // neither delays nor fails the request. Only answered requests are logged
  // (a timeout or a failed job has no hits to count).
  const logAnswered = (entry: {
    tenantId: string;
    knowledgeBaseId: string;
    kind: 'search' | 'query';
    body: RetrievalBody & { query: string };
    latencyMs: number;
    scores: number[];
    degraded?: string | undefined;
  }) => {
    deps.searchLog?.record({
      tenantId: entry.tenantId,
      knowledgeBaseId: entry.knowledgeBaseId,
      kind: entry.kind,
      query: entry.body.query,
      mode: entry.body.mode,
      filters: { ...filtersOf(entry.body), collapseDuplicates: entry.body.collapseDuplicates, diversity: entry.body.diversity },
      latencyMs: entry.latencyMs,
      hits: entry.scores.length,
      topScore: entry.scores.length > 0 ? Math.max(...entry.scores) : null,
      degraded: entry.degraded ?? null,
    });
  };

  /**
   * `/query` and `/search`: the same CRITICAL job round trip, answered with
   * the job's result plus the request's total time, then logged. They
   * differ in the body schema, the job and where the scores are.
   */
  const retrievalRoute =
    <R extends { degraded?: string; timings: Record<string, number> }>(
      kind: 'query' | 'search',
      jobName: 'answer-query' | 'search-chunks',
      scoresOf: (result: R) => number[],
    ) =>
    async (req: Request, res: Response, input: RouteInput<typeof queryBody | typeof searchBody, undefined, undefined>) => {
      const started = performance.now();
      const body = input.body();
      const tenantId = req.principal!.tenantId;
      const knowledgeBaseId = await knowledgeBaseOf(tenantId, body.knowledgeBase);
      if ('stream' in body && body.stream) {
        await streamAnswer(req, res, { body, tenantId, knowledgeBaseId, started });
        return;
      }
      const job = await deps.producer.enqueue(
        QueueName.query,
        jobName,
        { tenantId, knowledgeBaseId, query: body.query, topK: body.topK, ...retrievalOptions(body) },
        { priority: Priority.CRITICAL, removeOnComplete: { age: 60, count: 1000 } },
      );
      const result = await awaitJob<R>(job, deps.events.query, deps.timeoutMs);
      const totalMs = performance.now() - started;
      res.json({ ...result, timings: { ...result.timings, totalMs: Math.round(totalMs) } });
      logAnswered({ tenantId, knowledgeBaseId, kind, body, latencyMs: totalMs, scores: scoresOf(result), degraded: result.degraded });
    };

  /**
   * `POST /v1/query {"stream": true}`: the same job with `stream: true`,
   * whose events (written by the aggregator to the job's query stream) are
   * relayed as server-sent events: citations, the answer piece by piece,
   * then done with the timings (or error). A client that disconnects before
   * the end cancels the job: it is removed if still queued, and the
   * aggregator stops at its next check of the cancel key otherwise.
   */
  const streamAnswer = async (
    req: Request,
    res: Response,
    q: { body: z.output<typeof queryBody>; tenantId: string; knowledgeBaseId: string; started: number },
  ) => {
    const { body, tenantId, knowledgeBaseId } = q;
    const job = await deps.producer.enqueue(
      QueueName.query,
      'answer-query',
      { tenantId, knowledgeBaseId, query: body.query, topK: body.topK, ...retrievalOptions(body), stream: true },
      // One attempt: a retried stream would send its events twice.
      { priority: Priority.CRITICAL, attempts: 1, removeOnComplete: { age: 60, count: 1000 } },
    );
    const jobId = String(job.id);
    const stop = new AbortController();
    let ended = false;
    res.on('close', () => {
      if (ended) return;
      stop.abort();
      void requestQueryCancel(deps.redis, deps.producer.prefix, jobId)
        .then(() => job.remove().catch(() => undefined)) // only a job still waiting can be removed; a running one stops itself
        .catch(() => undefined);
    });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const timer = setTimeout(() => stop.abort(new Error('timeout')), deps.timeoutMs);
    const reader = deps.redis.duplicate();
    let scores: number[] = [];
    let degraded: string | undefined;
    try {
      for await (const event of readQueryStreamEvents(reader, deps.producer.prefix, jobId, { signal: stop.signal, blockMs: 250 })) {
        if (event.event === 'citations') {
          scores = (event.data.citations as { score: number }[]).map((c) => c.score);
          degraded = event.data.degraded;
        }
        if (event.event === 'done') {
          const totalMs = performance.now() - q.started;
          send('done', { ...event.data, timings: { ...event.data.timings, totalMs: Math.round(totalMs) } });
          logAnswered({ tenantId, knowledgeBaseId, kind: 'query', body, latencyMs: totalMs, scores, degraded });
        } else send(event.event, event.data);
      }
      if (stop.signal.aborted && !res.destroyed) {
        send('error', { error: { code: 'timeout', message: `no answer within ${deps.timeoutMs} ms` } });
        await requestQueryCancel(deps.redis, deps.producer.prefix, jobId).catch(() => undefined);
      }
    } finally {
      clearTimeout(timer);
      ended = true;
      reader.disconnect();
      if (!res.destroyed) res.end();
    }
  };

  const retrievalErrors = { 404: ['knowledge_base_not_found'], 502: ['job_failed'], 504: ['timeout'] };
  router.post(
    '/query',
    {
      operationId: 'query',
      scope: 'read',
      summary: 'Answer a question with citations',
      description:
        'Retrieves the best passages of the knowledge base and answers from them (an LLM when configured, extractive otherwise). With `"stream": true` the answer is `text/event-stream`: an event `citations` (`{citations, mode, degraded?}`), then `answer` events (`{text}`: pieces that joined are the answer; LLM tokens or extractive sentences), then `done` (`{answeredBy, timings}`) or `error` (`{error: {code, message}}`). Closing the connection cancels the work.',
      tags: ['query'],
      body: queryBody,
      responses: {
        200: { description: 'the answer, its citations and the time each stage took (JSON; server-sent events with "stream": true)', schema: queryAnswer },
      },
      errors: retrievalErrors,
      example: { body: { query: 'how do I reset my password?', topK: 3 } },
    },
    retrievalRoute<{ citations: { score: number }[]; degraded?: string; timings: Record<string, number> }>('query', 'answer-query', (r) =>
      r.citations.map((c) => c.score),
    ),
  );
  router.post(
    '/search',
    {
      operationId: 'search',
      scope: 'read',
      summary: 'Ranked passages, no answer',
      tags: ['query'],
      body: searchBody,
      responses: { 200: { description: 'the passages, best first', schema: searchResults } },
      errors: retrievalErrors,
      example: { body: { query: 'password reset', topK: 5 } },
    },
    retrievalRoute<{ results: { score: number }[]; degraded?: string; timings: Record<string, number> }>('search', 'search-chunks', (r) =>
      r.results.map((c) => c.score),
    ),
  );

  router.post(
    '/embed',
    {
      operationId: 'embed',
      scope: 'read',
      summary: 'Embed texts with the configured embedder',
      tags: ['query'],
      body: embedBody,
      responses: { 200: { description: 'one vector per text', schema: embeddings } },
      errors: { 502: ['job_failed'], 504: ['timeout'] },
      example: { body: { texts: ['first text', 'second text'] } },
    },
    async (req, res, input) => {
      const body = input.body();
      const job = await deps.producer.enqueue(
        QueueName.embed,
        'embed-texts',
        { tenantId: req.principal!.tenantId, texts: body.texts },
        { priority: Priority.HIGH, removeOnComplete: { age: 60, count: 100 } },
      );
      res.json(await pollJob(deps.producer.queue(QueueName.embed), String(job.id), deps.timeoutMs));
    },
  );

  return router;
}
