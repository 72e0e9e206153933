import type { TenantRepository } from '@kbflow/db';
import { deserializeError, Priority, QueueName, type JobProducer } from '@kbflow/queues';
import type { Job, QueueEvents } from 'bullmq';
import { Router } from 'express';
import { ApiError, parseBody } from '../http/api-error.ts';
import { embedBody, queryBody, searchBody } from './schemas.ts';

export interface QueryRouteDeps {
  tenants: TenantRepository;
  producer: JobProducer;
  events: { query: QueueEvents; embed: QueueEvents };
  timeoutMs: number;
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
    const { code, message: detail } = deserializeError(message);
    throw new ApiError(502, code, detail);
  }
}

/** Synchronous endpoints: each enqueues a CRITICAL (or HIGH) job and waits for its result. */
export function queryRoutes(deps: QueryRouteDeps): Router {
  const router = Router();

  const knowledgeBaseOf = async (tenantId: string, slug: string) => {
    const id = await deps.tenants.findKnowledgeBaseId(tenantId, slug);
    if (!id) throw new ApiError(404, 'knowledge_base_not_found', `no knowledge base "${slug}"`, { field: 'knowledgeBase' });
    return id;
  };

  router.post('/query', async (req, res) => {
    const started = performance.now();
    const body = parseBody(queryBody, req.body);
    const tenantId = req.principal!.tenantId;
    const knowledgeBaseId = await knowledgeBaseOf(tenantId, body.knowledgeBase);
    const job = await deps.producer.enqueue(
      QueueName.query,
      'answer-query',
      { tenantId, knowledgeBaseId, query: body.query, topK: body.topK, mode: body.mode },
      { priority: Priority.CRITICAL, removeOnComplete: { age: 60, count: 1000 } },
    );
    const result = await awaitJob<{ answer: string; citations: unknown[]; mode: string; timings: Record<string, number> }>(job, deps.events.query, deps.timeoutMs);
    res.json({ ...result, timings: { ...result.timings, totalMs: Math.round(performance.now() - started) } });
  });

  router.post('/search', async (req, res) => {
    const started = performance.now();
    const body = parseBody(searchBody, req.body);
    const tenantId = req.principal!.tenantId;
    const knowledgeBaseId = await knowledgeBaseOf(tenantId, body.knowledgeBase);
    const job = await deps.producer.enqueue(
      QueueName.query,
      'search-chunks',
      { tenantId, knowledgeBaseId, query: body.query, topK: body.topK, mode: body.mode },
      { priority: Priority.CRITICAL, removeOnComplete: { age: 60, count: 1000 } },
    );
    const result = await awaitJob<{ results: unknown[]; timings: Record<string, number> }>(job, deps.events.query, deps.timeoutMs);
    res.json({ ...result, timings: { ...result.timings, totalMs: Math.round(performance.now() - started) } });
  });

  router.post('/embed', async (req, res) => {
    const body = parseBody(embedBody, req.body);
    const job = await deps.producer.enqueue(
      QueueName.embed,
      'embed-texts',
      { tenantId: req.principal!.tenantId, texts: body.texts },
      { priority: Priority.HIGH, removeOnComplete: { age: 60, count: 100 } },
    );
    res.json(await awaitJob(job, deps.events.embed, deps.timeoutMs));
  });

  return router;
}
