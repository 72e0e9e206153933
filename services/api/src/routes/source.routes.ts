import {
  webhookView,
  type SourceRepository,
  type SourceSettings,
  type SourceView,
  type TaskRepository,
  type TaskView,
  type TenantRepository,
  type WebhookConfig,
  type WebhookRepository,
} from '@kbflow/db';
import { normalizeUrl } from '@kbflow/extraction';
import { activeTraceId } from '@kbflow/observability';
import {
  crawlFlow,
  nextSourceRun,
  parseSourceSchedule,
  Priority,
  QueueName,
  removeSourceSchedule,
  upsertSourceSchedule,
  type JobProducer,
  type SourceScheduleInput,
} from '@kbflow/queues';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError } from '../http/api-error.ts';
import { checkWebhookUrl } from '../http/webhook-url.ts';
import { ApiRoutes } from '../http/route-registry.ts';
import { runStarted, source as sourceSchema, sourceList, sourceRunList, taskAccepted, webhookDeliveryList } from './responses.ts';
import { runListQuery, sourceBody, sourceDeleteQuery, sourceListQuery, sourcePatch } from './schemas.ts';

export interface SourceRouteDeps {
  sources: SourceRepository;
  tasks: TaskRepository;
  tenants: TenantRepository;
  producer: JobProducer;
  log: Logger;
  /** The shortest `every` accepted (KBFLOW_SOURCE_MIN_INTERVAL_MS). */
  minIntervalMs: number;
  /** Delivery logs, and whether a webhook may point at a private address (KBFLOW_ALLOW_PRIVATE_NETWORKS). */
  webhooks: { repository: WebhookRepository; allowPrivateNetworks: boolean };
}

/** Documented only: a malformed id is a 404 like an unknown one (the handler checks it). */
const sourcePathParams = z.object({ id: z.string().describe('source id (UUID)') });
const sourceId = z.uuid();

/** One run as the history and `lastRun` show it. */
function runResponse(task: TaskView) {
  return {
    taskId: task.id,
    state: task.state,
    trigger: (task.params as { trigger?: 'schedule' | 'manual' }).trigger ?? 'manual',
    report: task.report!,
    ...(task.error ? { error: task.error } : {}),
    createdAt: task.createdAt.toISOString(),
    ...(task.startedAt ? { startedAt: task.startedAt.toISOString() } : {}),
    ...(task.finishedAt ? { finishedAt: task.finishedAt.toISOString() } : {}),
  };
}

function sourceResponse(s: SourceView, lastRun: TaskView | undefined, nextRunAt: Date | undefined) {
  return {
    id: s.id,
    type: s.type,
    url: s.url,
    knowledgeBase: s.knowledgeBase,
    schedule: s.schedule,
    includePaths: s.includePaths,
    excludePaths: s.excludePaths,
    maxPages: s.maxPages,
    maxDepth: s.maxDepth,
    engine: s.engine,
    respectRobots: s.respectRobots,
    sitemaps: s.sitemaps,
    ...(s.politeness ? { politeness: s.politeness } : {}),
    deleteUnreached: s.deleteUnreached,
    ...(s.webhook ? { webhook: webhookView(s.webhook)! } : {}),
    ...(lastRun ? { lastRun: runResponse(lastRun) } : {}),
    ...(nextRunAt ? { nextRunAt: nextRunAt.toISOString() } : {}),
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/**
 * Sources (kbflow issue 11): sites kept fresh by a schedule. The row is the
 * truth; its BullMQ job scheduler (`source-<id>` on the maintenance queue)
 * is written after it and removed before it goes. Runs are crawl tasks
 * linked to the source, started by the scheduler (maintenance's
 * `run-source`) or by `POST /v1/sources/:id/runs`. See docs/sources.md.
 */
export function sourceRoutes(deps: SourceRouteDeps): ApiRoutes {
  const router = new ApiRoutes();

  const checkSchedule = (schedule: SourceScheduleInput) => {
    const parsed = parseSourceSchedule(schedule, deps.minIntervalMs);
    if (!parsed.ok) throw new ApiError(400, 'invalid_field', parsed.reason, { field: `schedule.${parsed.field}` });
  };
  const checkUrl = (url: string): string => {
    const normalized = normalizeUrl(url);
    if (!normalized) throw new ApiError(400, 'invalid_field', 'not a fetchable URL', { field: 'url' });
    return normalized;
  };
  const findOwn = async (tenantId: string, id: string): Promise<SourceView> => {
    const parsed = sourceId.safeParse(id);
    const found = parsed.success ? await deps.sources.find(tenantId, parsed.data) : undefined;
    if (!found) throw new ApiError(404, 'source_not_found', `no source ${id}`);
    return found;
  };
  const withRuns = async (tenantId: string, list: SourceView[]) => {
    const [last, next] = await Promise.all([
      deps.tasks.latestRuns(
        tenantId,
        list.map((s) => s.id),
      ),
      Promise.all(list.map((s) => nextSourceRun(deps.producer, s.id))),
    ]);
    return list.map((s, i) => sourceResponse(s, last.get(s.id), next[i]));
  };
  const schedulerUnavailable = (error: unknown, id: string) => {
    deps.log.error({ err: error, sourceId: id }, 'could not write the source schedule');
    return new ApiError(503, 'queue_unavailable', 'the schedule could not be written; try again', { headers: { 'Retry-After': '5' } });
  };

  router.post(
    '/sources',
    {
      operationId: 'createSource',
      summary: 'Register a site to keep fresh',
      description:
        'Crawls `url` on `schedule` (an interval, or a cron pattern of at most one run a minute). A firing while a run is in progress is skipped. `every` schedules run once right away.',
      tags: ['sources'],
      body: sourceBody,
      responses: { 201: { description: 'the source', schema: sourceSchema } },
      errors: { 503: ['queue_unavailable', 'overloaded'] },
      example: { body: { type: 'site', url: 'http://127.0.0.1:9/', schedule: { cron: '0 3 * * *' } } },
    },
    async (req, res, input) => {
      const body = input.body();
      checkSchedule(body.schedule);
      if (body.webhook) await checkWebhookUrl(body.webhook.url, deps.webhooks.allowPrivateNetworks);
      const tenantId = req.principal!.tenantId;
      const settings: SourceSettings = {
        url: checkUrl(body.url),
        schedule: body.schedule,
        includePaths: body.includePaths,
        excludePaths: body.excludePaths,
        maxPages: body.maxPages,
        maxDepth: body.maxDepth,
        engine: body.engine,
        respectRobots: body.respectRobots,
        sitemaps: body.sitemaps,
        politeness: body.politeness ?? null,
        deleteUnreached: body.deleteUnreached,
        webhook: (body.webhook as WebhookConfig | undefined) ?? null,
      };
      const knowledgeBaseId = await deps.tenants.knowledgeBaseId(tenantId, body.knowledgeBase);
      const created = await deps.sources.create({ tenantId, knowledgeBaseId, settings });
      try {
        await upsertSourceSchedule(deps.producer, created);
      } catch (error) {
        // Nothing half-written: no source without its schedule.
        await deps.sources.delete(tenantId, created.id);
        throw schedulerUnavailable(error, created.id);
      }
      const [view] = await withRuns(tenantId, [created]);
      res.status(201).json(view);
    },
  );

  router.get(
    '/sources',
    {
      operationId: 'listSources',
      summary: "The tenant's sources, each with its last and next run",
      tags: ['sources'],
      query: sourceListQuery,
      responses: { 200: { description: 'a page of sources, oldest first', schema: sourceList } },
      example: { query: { limit: '5' } },
    },
    async (req, res, input) => {
      const q = input.query();
      const tenantId = req.principal!.tenantId;
      const rows = await deps.sources.list(tenantId, { limit: q.limit + 1, ...(q.after ? { after: q.after } : {}) });
      const page = rows.slice(0, q.limit);
      res.json({ sources: await withRuns(tenantId, page), ...(rows.length > q.limit ? { nextCursor: page.at(-1)!.id } : {}) });
    },
  );

  router.get(
    '/sources/:id',
    {
      operationId: 'getSource',
      summary: 'A source with its last and next run',
      tags: ['sources'],
      params: sourcePathParams,
      responses: { 200: { description: 'the source', schema: sourceSchema } },
      errors: { 404: ['source_not_found'] },
      example: { params: { id: '{sourceId}' } },
    },
    async (req, res) => {
      const tenantId = req.principal!.tenantId;
      const found = await findOwn(tenantId, String(req.params.id));
      const [view] = await withRuns(tenantId, [found]);
      res.json(view);
    },
  );

  router.patch(
    '/sources/:id',
    {
      operationId: 'updateSource',
      summary: 'Change a source',
      description: 'Any field but `type` and `knowledgeBase`; a new schedule replaces the job scheduler. Runs in progress keep the settings they started with.',
      tags: ['sources'],
      params: sourcePathParams,
      body: sourcePatch,
      responses: { 200: { description: 'the source', schema: sourceSchema } },
      errors: { 404: ['source_not_found'], 503: ['queue_unavailable'] },
      example: { params: { id: '{sourceId}' }, body: { maxPages: 10, schedule: { every: '12h' } } },
    },
    async (req, res, input) => {
      const tenantId = req.principal!.tenantId;
      const found = await findOwn(tenantId, String(req.params.id));
      const patch = input.body();
      if (patch.schedule) checkSchedule(patch.schedule);
      if (patch.webhook) await checkWebhookUrl(patch.webhook.url, deps.webhooks.allowPrivateNetworks);
      const changes: Partial<SourceSettings> = {};
      for (const [key, value] of Object.entries(patch)) if (value !== undefined) (changes as Record<string, unknown>)[key] = value;
      if (patch.url) changes.url = checkUrl(patch.url);
      // The scheduler first: a failure leaves the source as it was.
      if (patch.schedule) {
        try {
          await upsertSourceSchedule(deps.producer, { ...found, schedule: patch.schedule });
        } catch (error) {
          throw schedulerUnavailable(error, found.id);
        }
      }
      const updated = await deps.sources.update(tenantId, found.id, changes);
      if (!updated) throw new ApiError(404, 'source_not_found', `no source ${found.id}`);
      const [view] = await withRuns(tenantId, [updated]);
      res.json(view);
    },
  );

  router.delete(
    '/sources/:id',
    {
      operationId: 'deleteSource',
      summary: 'Remove a source and its schedule',
      description:
        'A run in progress is cancelled. With `purge=true` the documents its runs reached go too (with their chunks and vectors), as a task: 202 with its id.',
      tags: ['sources'],
      params: sourcePathParams,
      query: sourceDeleteQuery,
      responses: { 204: { description: 'removed' }, 202: { description: 'removed; the purge task is queued', schema: taskAccepted } },
      errors: { 404: ['source_not_found'], 503: ['queue_unavailable'] },
      example: { params: { id: '{sourceId}' } },
    },
    async (req, res, input) => {
      const tenantId = req.principal!.tenantId;
      const { purge } = input.query();
      const found = await findOwn(tenantId, String(req.params.id));
      try {
        await removeSourceSchedule(deps.producer, found.id);
      } catch (error) {
        throw schedulerUnavailable(error, found.id);
      }
      const active = await deps.tasks.list(tenantId, { sourceId: found.id, type: 'crawl', limit: 1 });
      if (active[0] && (active[0].state === 'queued' || active[0].state === 'running')) await deps.tasks.requestCancel(tenantId, active[0].id);
      await deps.sources.delete(tenantId, found.id);
      if (!purge) {
        res.status(204).end();
        return;
      }
      const taskId = await deps.tasks.createPurgeTask({
        tenantId,
        knowledgeBaseId: found.knowledgeBaseId,
        sourceId: found.id,
        url: found.url,
        ...(activeTraceId() ? { traceId: activeTraceId()! } : {}),
      });
      try {
        await deps.producer.enqueue(
          QueueName.maintenance,
          'purge-source',
          { tenantId, sourceId: found.id, taskId, correlationId: taskId },
          { priority: Priority.NORMAL, jobId: `purge-${taskId}` },
        );
      } catch (error) {
        await deps.tasks.deleteTask(taskId);
        deps.log.error({ err: error, taskId }, 'could not enqueue the purge');
        throw new ApiError(503, 'queue_unavailable', 'the source is removed but its purge could not be queued; purge its documents again later', {
          headers: { 'Retry-After': '5' },
        });
      }
      res.status(202).json({ taskId });
    },
  );

  router.post(
    '/sources/:id/runs',
    {
      operationId: 'runSource',
      summary: 'Run a source now',
      description: 'Starts a run (a crawl task linked to the source) unless one is in progress (409, naming it).',
      tags: ['sources'],
      params: sourcePathParams,
      responses: { 202: { description: 'the run started; poll GET /v1/tasks/{taskId}', schema: runStarted } },
      errors: { 404: ['source_not_found'], 409: ['run_in_progress'], 503: ['queue_unavailable', 'overloaded'] },
      example: { params: { id: '{sourceId}' } },
    },
    async (req, res) => {
      const tenantId = req.principal!.tenantId;
      const found = await findOwn(tenantId, String(req.params.id));
      const traceId = activeTraceId();
      const run = await deps.sources.startRun(found, 'manual', traceId);
      if (!run.started) throw new ApiError(409, 'run_in_progress', run.activeTaskId ? `run ${run.activeTaskId} is in progress` : 'a run is in progress');
      try {
        await deps.producer.enqueueFlow(
          crawlFlow({ tenantId, taskId: run.taskId, seeds: [found.url], engine: found.engine, deleteUnreached: found.deleteUnreached }),
        );
      } catch (error) {
        await deps.tasks.deleteTask(run.taskId);
        deps.log.error({ err: error, taskId: run.taskId }, 'could not enqueue the run');
        throw new ApiError(503, 'queue_unavailable', 'the run could not be queued; try again', { headers: { 'Retry-After': '5' } });
      }
      res.status(202).json({ taskId: run.taskId });
    },
  );

  router.get(
    '/sources/:id/runs',
    {
      operationId: 'listSourceRuns',
      summary: "A source's runs, newest first, with their reports",
      tags: ['sources'],
      params: sourcePathParams,
      query: runListQuery,
      responses: { 200: { description: 'a page of runs', schema: sourceRunList } },
      errors: { 404: ['source_not_found'] },
      example: { params: { id: '{sourceId}' }, query: { limit: '5' } },
    },
    async (req, res, input) => {
      const tenantId = req.principal!.tenantId;
      const found = await findOwn(tenantId, String(req.params.id));
      const q = input.query();
      const after = q.after ? await deps.tasks.cursorOf(tenantId, q.after) : undefined;
      if (q.after && !after) throw new ApiError(400, 'invalid_field', 'not a run of this source', { field: 'after' });
      const rows = await deps.tasks.list(tenantId, { sourceId: found.id, type: 'crawl', limit: q.limit + 1, ...(after ? { after } : {}) });
      const page = rows.slice(0, q.limit);
      res.json({ runs: page.map(runResponse), ...(rows.length > q.limit ? { nextCursor: page.at(-1)!.id } : {}) });
    },
  );

  router.get(
    '/sources/:id/webhook-deliveries',
    {
      operationId: 'listSourceWebhookDeliveries',
      summary: "The last attempts to deliver a source's webhook events",
      description: 'The newest 20 attempts of every run of the source, newest first: status code or error, attempt number, duration (docs/webhooks.md).',
      tags: ['sources'],
      params: sourcePathParams,
      responses: { 200: { description: 'the attempts', schema: webhookDeliveryList } },
      errors: { 404: ['source_not_found'] },
      example: { params: { id: '{sourceId}' } },
    },
    async (req, res) => {
      const tenantId = req.principal!.tenantId;
      const found = await findOwn(tenantId, String(req.params.id));
      const deliveries = await deps.webhooks.repository.list(tenantId, { targetId: found.id });
      res.json({ deliveries: deliveries.map(deliveryResponse) });
    },
  );

  return router;
}

/** One delivery attempt as the API shows it. */
export function deliveryResponse(d: Awaited<ReturnType<WebhookRepository['list']>>[number]) {
  return { ...d, createdAt: d.createdAt.toISOString() };
}
