import {
  webhookView,
  type CrawlParams,
  type IngestProgress,
  type TaskRepository,
  type TaskType,
  type TaskView,
  type TenantRepository,
  type WebhookConfig,
  type WebhookRepository,
} from '@kbflow/db';
import { normalizeUrl } from '@kbflow/extraction';
import { activeTraceId } from '@kbflow/observability';
import { crawlFlow, QueueName, tenantLimitWaitingKey, type JobProducer } from '@kbflow/queues';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { ApiError } from '../http/api-error.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { taskAccepted, taskList, taskStatus, webhookDeliveryList } from './responses.ts';
import { checkWebhookUrl } from '../http/webhook-url.ts';
import { deliveryResponse } from './source.routes.ts';
import { explainIngestWait, explainWait, type WaitReason } from '../domain/wait-reason.ts';
import { batchScrapeBody, crawlBody, scrapeBody, taskIdParam, taskListQuery } from './schemas.ts';
import { z } from 'zod';

/** Documented only: a malformed id is a 404 like an unknown one (the handler checks it). */
const taskPathParams = z.object({ id: z.string().describe('task id (UUID)') });
import { listBreakers } from '@kbflow/resilience';
import type { Redis } from '@kbflow/queues';

export interface TaskRouteDeps {
  redis: Redis;
  tasks: TaskRepository;
  tenants: TenantRepository;
  producer: JobProducer;
  log: Logger;
  /** Delivery logs, and whether a webhook may point at a private address (KBFLOW_ALLOW_PRIVATE_NETWORKS). */
  webhooks: { repository: WebhookRepository; allowPrivateNetworks: boolean };
}

/** The public shape of `GET /v1/tasks/:id`. */
function taskResponse(task: TaskView, waiting?: WaitReason) {
  // An ingest task's progress is its row counts and how many of its documents are embedded.
  const ingest = task.ingest;
  return {
    id: task.id,
    type: task.type,
    state: task.state,
    ...(task.sourceId ? { sourceId: task.sourceId } : {}),
    ...(task.report ? { report: task.report } : {}),
    progress: ingest ? ingestProgress(ingest) : task.progress,
    ...(task.error ? { error: task.error } : {}),
    ...(task.pruneSkipped ? { pruneSkipped: task.pruneSkipped } : {}),
    ...(waiting ? { waiting } : {}),
    ...(task.webhook ? { webhook: webhookView(task.webhook)! } : {}),
    params: ingest
      ? { source: ingest.source }
      : {
          seeds: task.params.seeds,
          maxPages: task.params.maxPages,
          maxDepth: task.params.maxDepth,
          engine: task.params.engine,
          deleteUnreached: task.params.deleteUnreached ?? false,
          respectRobots: task.params.respectRobots ?? true,
          sitemaps: task.params.sitemaps ?? 'off',
          ...(task.params.politeness ? { politeness: task.params.politeness } : {}),
          ...(task.params.includePaths?.length ? { includePaths: task.params.includePaths } : {}),
          ...(task.params.excludePaths?.length ? { excludePaths: task.params.excludePaths } : {}),
        },
    // Ingests' final counts and a purge's (a crawl's final counts are its report).
    ...((ingest || task.type === 'purge') && task.result ? { result: task.result } : {}),
    ...(task.traceId ? { traceId: task.traceId } : {}),
    createdAt: task.createdAt.toISOString(),
    ...(task.startedAt ? { startedAt: task.startedAt.toISOString() } : {}),
    ...(task.finishedAt ? { finishedAt: task.finishedAt.toISOString() } : {}),
  };
}

function ingestProgress(p: IngestProgress) {
  return {
    received: p.received,
    accepted: p.accepted,
    unchanged: p.unchanged,
    deleted: p.deleted,
    invalid: p.invalid,
    toEmbed: p.toEmbed,
    embedded: p.embedded,
  };
}

/**
 * Task submission and status. A crawl, a scrape and a batch are one
 * mechanism: a `complete-crawl` flow parent whose children are scrape jobs
 * (and, as pages change, document flows), so every task reaches a final
 * state when its last child finishes.
 */
export function taskRoutes(deps: TaskRouteDeps): ApiRoutes {
  const router = new ApiRoutes();

  const submit = async (
    req: Request,
    type: TaskType,
    seeds: string[],
    opts: {
      maxPages: number;
      maxDepth: number;
      engine: CrawlParams['engine'];
      knowledgeBase: string;
      deleteUnreached?: boolean;
      respectRobots: boolean;
      sitemaps?: 'auto' | 'off';
      politeness?: CrawlParams['politeness'];
      includePaths?: string[] | undefined;
      excludePaths?: string[] | undefined;
      webhook?: WebhookConfig | undefined;
    },
  ) => {
    const tenantId = req.principal!.tenantId;
    if (opts.webhook) await checkWebhookUrl(opts.webhook.url, deps.webhooks.allowPrivateNetworks);
    const normalized = [...new Set(seeds.map((u) => normalizeUrl(u)).filter((u): u is string => u !== null))];
    if (normalized.length === 0) throw new ApiError(400, 'invalid_field', 'no fetchable URL', { field: type === 'batch-scrape' ? 'urls' : 'url' });
    const params: CrawlParams = {
      seeds: normalized,
      maxPages: Math.max(opts.maxPages, normalized.length),
      maxDepth: opts.maxDepth,
      engine: opts.engine,
      origins: [...new Set(normalized.map((u) => new URL(u).origin))],
      ...(opts.deleteUnreached ? { deleteUnreached: true } : {}),
      respectRobots: opts.respectRobots,
      sitemaps: opts.sitemaps ?? 'off',
      ...(opts.politeness ? { politeness: opts.politeness } : {}),
      ...(opts.includePaths?.length ? { includePaths: opts.includePaths } : {}),
      ...(opts.excludePaths?.length ? { excludePaths: opts.excludePaths } : {}),
    };
    const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, opts.knowledgeBase);
    // The request's trace: the task's jobs continue it, and its status names it.
    const taskId = await deps.tasks.createCrawlTask({
      tenantId,
      knowledgeBaseId,
      type,
      params,
      traceId: activeTraceId(),
      ...(opts.webhook ? { webhook: opts.webhook } : {}),
    });
    try {
      await deps.producer.enqueueFlow(crawlFlow({ tenantId, taskId, seeds: normalized, engine: opts.engine }));
    } catch (error) {
      // Nothing half-written: the task row goes when its jobs could not be queued.
      await deps.tasks.deleteTask(taskId);
      deps.log.error({ err: error, taskId }, 'could not enqueue task');
      throw new ApiError(503, 'queue_unavailable', 'the task could not be queued; try again', { headers: { 'Retry-After': '5' } });
    }
    return taskId;
  };

  const accepted = { 202: { description: 'the task was created; poll GET /v1/tasks/{id}', schema: taskAccepted } };
  const submitErrors = { 503: ['queue_unavailable', 'overloaded'] };

  router.post(
    '/crawl',
    {
      operationId: 'crawl',
      summary: 'Crawl a site from a seed URL',
      description:
        "Follows same-origin links up to maxDepth and maxPages; each page is stored, chunked and embedded. PDF, DOCX, text and Markdown links are extracted too. Obeys the site's robots.txt (respectRobots), adds its sitemaps' pages (sitemaps) and keeps per-host limits shared by all scrapers (politeness); see docs/crawling.md. A recrawl sends stored ETag / Last-Modified back (a 304 is unchanged, nothing downloaded), re-embeds only changed chunks, and removes pages that answer 404/410 or redirect off the crawl's origins; deleteUnreached also removes pages the crawl no longer reaches (docs/recrawls.md).",
      tags: ['tasks'],
      body: crawlBody,
      responses: accepted,
      errors: submitErrors,
      example: { body: { url: 'http://127.0.0.1:9/index.html', maxPages: 1, maxDepth: 0 } },
    },
    async (req, res, input) => {
      const body = input.body();
      const taskId = await submit(req, 'crawl', [body.url], { ...body, webhook: body.webhook as WebhookConfig | undefined });
      res.status(202).json({ taskId });
    },
  );

  router.post(
    '/scrape',
    {
      operationId: 'scrape',
      summary: 'Scrape one page',
      tags: ['tasks'],
      body: scrapeBody,
      responses: accepted,
      errors: submitErrors,
      example: { body: { url: 'http://127.0.0.1:9/page.html' } },
    },
    async (req, res, input) => {
      const body = input.body();
      const taskId = await submit(req, 'scrape', [body.url], { ...body, maxPages: 1, maxDepth: 0 });
      res.status(202).json({ taskId });
    },
  );

  router.post(
    '/scrape/batch',
    {
      operationId: 'scrapeBatch',
      summary: 'Scrape a list of pages',
      tags: ['tasks'],
      body: batchScrapeBody,
      responses: accepted,
      errors: submitErrors,
      example: { body: { urls: ['http://127.0.0.1:9/a.html', 'http://127.0.0.1:9/b.html'] } },
    },
    async (req, res, input) => {
      const body = input.body();
      const taskId = await submit(req, 'batch-scrape', body.urls, { ...body, maxPages: body.urls.length, maxDepth: 0 });
      res.status(202).json({ taskId });
    },
  );

  router.get(
    '/tasks/:id',
    {
      operationId: 'getTask',
      summary: "A task's state, progress and why it waits",
      tags: ['tasks'],
      params: taskPathParams,
      responses: { 200: { description: 'the task', schema: taskStatus } },
      errors: { 404: ['task_not_found'] },
      example: { params: { id: '{taskId}' } },
    },
    async (req, res) => {
      const id = taskIdParam.safeParse(req.params.id);
      if (!id.success) throw new ApiError(404, 'task_not_found', `no task ${req.params.id}`);
      const task = await deps.tasks.find(req.principal!.tenantId, id.data);
      if (!task) throw new ApiError(404, 'task_not_found', `no task ${id.data}`);
      let waiting: WaitReason | undefined;
      if (task.state === 'queued' || task.state === 'running') {
        const [breakers, scrape, embed, aggregate, tenantLimit] = await Promise.all([
          listBreakers(deps.redis, deps.producer.prefix),
          deps.producer.queue(QueueName.scrape).getRateLimitTtl(),
          deps.producer.queue(QueueName.embed).getRateLimitTtl(),
          deps.producer.queue(QueueName.aggregate).getRateLimitTtl(),
          // Marked by the workers for a few seconds after they defer one of the tenant's jobs (TenantSlots).
          deps.redis.get(tenantLimitWaitingKey(deps.producer.prefix, task.tenantId)),
        ]);
        waiting = (task.ingest ? explainIngestWait : explainWait)(task, {
          openBreakers: breakers.filter((b) => b.state === 'open').map((b) => ({ name: b.name, retryAt: b.replicas.find((r) => r.retryAt)?.retryAt })),
          rateLimitMs: { scrape: Math.max(0, scrape), embed: Math.max(0, embed), aggregate: Math.max(0, aggregate) },
          tenantLimit: tenantLimit === null ? undefined : Number(tenantLimit),
        });
      }
      res.json(taskResponse(task, waiting));
    },
  );

  router.post(
    '/tasks/:id/cancel',
    {
      operationId: 'cancelTask',
      summary: 'Stop a crawl, a scrape or a source run',
      description:
        'The task turns `cancelling` at once: its queued pages are dropped when a scraper picks them up (no fetch, no attempt spent), pages being fetched finish, and no new link is followed. It reads `cancelled`, with its counts, once nothing of it is left queued. Cancelling a cancelled task again is a no-op.',
      tags: ['tasks'],
      params: taskPathParams,
      responses: { 202: { description: 'the task, cancelling or already cancelled', schema: taskStatus } },
      errors: { 404: ['task_not_found'], 409: ['task_finished', 'not_cancellable'] },
      example: { params: { id: '{taskId}' } },
    },
    async (req, res) => {
      const id = taskIdParam.safeParse(req.params.id);
      if (!id.success) throw new ApiError(404, 'task_not_found', `no task ${req.params.id}`);
      const tenantId = req.principal!.tenantId;
      const found = await deps.tasks.find(tenantId, id.data);
      if (!found) throw new ApiError(404, 'task_not_found', `no task ${id.data}`);
      // Ingests are answered when their rows are stored, and purges are short deletes: neither has pages to drop.
      if (found.type === 'ingest' || found.type === 'purge') throw new ApiError(409, 'not_cancellable', `a ${found.type} task cannot be cancelled`);
      const before = await deps.tasks.requestCancel(tenantId, id.data);
      if (before === 'completed' || before === 'failed')
        throw new ApiError(409, 'task_finished', `task ${id.data} has already ${before === 'completed' ? 'completed' : 'failed'}`);
      const task = await deps.tasks.find(tenantId, id.data);
      deps.log.info({ taskId: id.data, before }, 'task cancel requested');
      res.status(202).json(taskResponse(task!));
    },
  );

  router.get(
    '/tasks/:id/webhook-deliveries',
    {
      operationId: 'listTaskWebhookDeliveries',
      summary: "The last attempts to deliver a task's webhook events",
      description: "A one-shot crawl's own webhook, or a source run's events sent to the source's webhook: newest first, at most 20 (docs/webhooks.md).",
      tags: ['tasks'],
      params: taskPathParams,
      responses: { 200: { description: 'the attempts', schema: webhookDeliveryList } },
      errors: { 404: ['task_not_found'] },
      example: { params: { id: '{taskId}' } },
    },
    async (req, res) => {
      const id = taskIdParam.safeParse(req.params.id);
      if (!id.success) throw new ApiError(404, 'task_not_found', `no task ${req.params.id}`);
      const tenantId = req.principal!.tenantId;
      const found = await deps.tasks.find(tenantId, id.data);
      if (!found) throw new ApiError(404, 'task_not_found', `no task ${id.data}`);
      const deliveries = await deps.webhooks.repository.list(tenantId, { taskId: found.id });
      res.json({ deliveries: deliveries.map(deliveryResponse) });
    },
  );

  router.get(
    '/tasks',
    {
      operationId: 'listTasks',
      summary: "The tenant's tasks, newest first",
      description: "Filtered by state, type, source and creation time (`since`); `limit` per page (at most 100), `after` = the previous page's `nextCursor`.",
      tags: ['tasks'],
      query: taskListQuery,
      responses: { 200: { description: 'a page of tasks', schema: taskList } },
      example: { query: { limit: '5' } },
    },
    async (req, res, input) => {
      const q = input.query();
      const tenantId = req.principal!.tenantId;
      const after = q.after ? await deps.tasks.cursorOf(tenantId, q.after) : undefined;
      if (q.after && !after) throw new ApiError(400, 'invalid_field', 'not a task of this tenant', { field: 'after' });
      // One more than asked tells whether there is a next page.
      const rows = await deps.tasks.list(tenantId, {
        limit: q.limit + 1,
        ...(q.state ? { state: q.state } : {}),
        ...(q.type ? { type: q.type } : {}),
        ...(q.source ? { sourceId: q.source } : {}),
        ...(q.since ? { since: new Date(q.since) } : {}),
        ...(after ? { after } : {}),
      });
      const page = rows.slice(0, q.limit);
      res.json({ tasks: page.map((t) => taskResponse(t)), ...(rows.length > q.limit ? { nextCursor: page.at(-1)!.id } : {}) });
    },
  );

  return router;
}
