import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type {
  CaseRepository,
  DocumentRepository,
  SourceRepository,
  IdempotencyRepository,
  KnowledgeRepository,
  RecordRepository,
  ScheduleRunRepository,
  SearchLogRepository,
  TaskRepository,
  TenantRepository,
  TenantWorkRepository,
  WebhookRepository,
} from '@kbflow/db';
import { readinessStatus, runChecks, type ReadinessCheck } from '@kbflow/observability';
import { QueueName, type JobProducer, type Redis } from '@kbflow/queues';
import type { QueueEvents } from 'bullmq';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import { AdmissionControl, DEFAULT_ADMISSION, type AdmissionOptions } from './http/admission.ts';
import { authenticate, KeyLookup, requireScope, type KeyUseRecorder } from './http/auth.ts';
import { tenantRoutes } from './routes/tenant.routes.ts';
import { limitApiCalls, limitVectorOperations, TenantRateLimits } from './http/tenant-rate-limits.ts';
import type { TenantPurger } from './tenant-purger.ts';
import { errorMiddleware, notFound } from './http/api-error.ts';
import { captureBodyHash, idempotency } from './http/idempotency.ts';
import { matchedRoute, traceRequests } from './http/request-tracing.ts';
import { streamsBody } from './http/bulk-body.ts';
import { caseRoutes } from './routes/case.routes.ts';
import { deadLetterRoutes } from './routes/dead-letter.routes.ts';
import { queryRoutes } from './routes/query.routes.ts';
import { opsRoutes } from './routes/ops.routes.ts';
import { queueRoutes } from './routes/queue.routes.ts';
import { recordRoutes } from './routes/record.routes.ts';
import { scheduleRoutes } from './routes/schedule.routes.ts';
import { knowledgeRoutes } from './routes/knowledge.routes.ts';
import { searchAnalyticsRoutes } from './routes/search-analytics.routes.ts';
import type { SearchLogWriter } from './search-log-writer.ts';
import { registerQueueMetrics } from './queue-metrics.ts';
import { taskRoutes } from './routes/task.routes.ts';
import { knowledgeBaseRoutes } from './routes/knowledge-base.routes.ts';
import { documentRoutes } from './routes/document.routes.ts';
import { sourceRoutes } from './routes/source.routes.ts';
import { RouteRegistry } from './http/route-registry.ts';
import { buildOpenApiDocument } from './openapi/openapi-document.ts';
import { docsRoutes } from './openapi/docs.routes.ts';
import { mcpRoutes } from './mcp/mcp.routes.ts';

export interface AppDeps {
  log: Logger;
  registry: Registry;
  tenants: TenantRepository;
  tasks: TaskRepository;
  /** A tenant key's own view of /v1/queues and /v1/stats. */
  tenantWork: TenantWorkRepository;
  producer: JobProducer;
  redis: Redis;
  events: { query: QueueEvents };
  checks: ReadinessCheck[];
  queryTimeoutMs: number;
  maxBodyBytes: number;
  bullBoardReadOnly: boolean;
  /**
   * Where `Idempotency-Key`s are kept (PostgreSQL). Without it the header is
   * validated but not honoured: pass it wherever the API really serves.
   */
  idempotency?: IdempotencyRepository;
  /** Batch record ingestion: where records are written and the cap on one request's body (KBFLOW_RECORDS_MAX_BYTES). */
  records: { repository: RecordRepository; maxBytes: number };
  /** Support cases, for `/v1/cases` (bulk bodies share the records' cap). */
  cases: CaseRepository;
  /** The history of maintenance runs, for `/v1/schedules`. */
  scheduleRuns: ScheduleRunRepository;
  /** Knowledge articles, for `/v1/knowledge`. */
  knowledge: KnowledgeRepository;
  /** Uploaded documents (`POST /v1/documents`), and the page cap of one PDF (KBFLOW_MAX_DOCUMENT_PAGES). */
  documents: { repository: DocumentRepository; maxPages: number };
  /** Sources (`/v1/sources`) and the shortest `every` a schedule may have (KBFLOW_SOURCE_MIN_INTERVAL_MS). */
  sources: { repository: SourceRepository; minIntervalMs: number };
  /** Webhook delivery logs, and whether a webhook URL may be on a private address (KBFLOW_ALLOW_PRIVATE_NETWORKS). */
  webhooks: { repository: WebhookRepository; allowPrivateNetworks: boolean };
  /** Load-shedding thresholds (KBFLOW_ADMISSION_*); defaults 0.9 of maxmemory and 100,000 jobs. */
  admission?: AdmissionOptions;
  /**
   * The search log: searches and queries are recorded through `writer` and
   * summarised at `/v1/search/analytics`. Without it nothing is logged and
   * that route does not exist: pass it wherever the API really serves.
   */
  searchLogs?: { writer: SearchLogWriter; repository: SearchLogRepository };
  /**
   * Tenant and key management (`/v1/admin/tenants`): the purger deletes a
   * tenant's rows, vectors and jobs. Without it those routes do not exist.
   */
  tenantAdmin?: { purger: TenantPurger };
  /** Where the last use of each key is noted (written in batches); without it, not recorded. */
  keyUse?: KeyUseRecorder;
}

/** The app and the registry of its documented routes (the OpenAPI document is built from it). */
export type KbflowApp = Express & { locals: { routes: RouteRegistry; openapi: () => Record<string, unknown> } };

/**
 * Mounts every documented `/v1` route on `v1` through the registry: this is
 * the only place routes are added (a module's {@link ApiRoutes} reach
 * Express nowhere else), so the OpenAPI document lists exactly what is
 * served. A new route module goes into this list.
 */
export function mountV1Routes(registry: RouteRegistry, v1: express.Router, deps: AppDeps, admission: AdmissionControl): void {
  const mount = (routes: Parameters<RouteRegistry['mount']>[2]) => registry.mount(v1, '/v1', routes);
  mount(taskRoutes({ redis: deps.redis, tasks: deps.tasks, tenants: deps.tenants, producer: deps.producer, log: deps.log, webhooks: deps.webhooks }));
  if (deps.searchLogs) mount(searchAnalyticsRoutes({ tenants: deps.tenants, searchLogs: deps.searchLogs.repository }));
  mount(
    queryRoutes({
      tenants: deps.tenants,
      producer: deps.producer,
      redis: deps.redis,
      events: deps.events,
      timeoutMs: deps.queryTimeoutMs,
      searchLog: deps.searchLogs?.writer,
    }),
  );
  mount(
    recordRoutes({
      tenants: deps.tenants,
      tasks: deps.tasks,
      records: deps.records.repository,
      producer: deps.producer,
      log: deps.log,
      maxBytes: deps.records.maxBytes,
    }),
  );
  mount(caseRoutes({ tenants: deps.tenants, cases: deps.cases, producer: deps.producer, log: deps.log, maxBytes: deps.records.maxBytes }));
  mount(queueRoutes(deps.producer, deps.tenantWork));
  mount(opsRoutes(deps.producer, deps.redis, deps.tenantWork));
  mount(deadLetterRoutes({ producer: deps.producer, redis: deps.redis, admission, log: deps.log }));
  mount(scheduleRoutes({ producer: deps.producer, runs: deps.scheduleRuns, log: deps.log }));
  mount(knowledgeRoutes({ tenants: deps.tenants, knowledge: deps.knowledge, producer: deps.producer, log: deps.log }));
  mount(knowledgeBaseRoutes({ tenants: deps.tenants }));
  if (deps.tenantAdmin) mount(tenantRoutes({ tenants: deps.tenants, purger: deps.tenantAdmin.purger, log: deps.log }));
  mount(
    sourceRoutes({
      sources: deps.sources.repository,
      tasks: deps.tasks,
      tenants: deps.tenants,
      producer: deps.producer,
      log: deps.log,
      minIntervalMs: deps.sources.minIntervalMs,
      webhooks: deps.webhooks,
    }),
  );
  mount(
    documentRoutes({
      tenants: deps.tenants,
      tasks: deps.tasks,
      documents: deps.documents.repository,
      producer: deps.producer,
      log: deps.log,
      maxFileBytes: deps.records.maxBytes,
      maxPages: deps.documents.maxPages,
    }),
  );
}

/** Builds the Express app; `main.ts` only wires clients and listens. */
export function createApp(deps: AppDeps): KbflowApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);

  const httpDuration = new Histogram({
    name: 'kbflow_http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [deps.registry],
  });
  registerQueueMetrics(deps.producer, deps.registry);
  // First, so the request's span is active for everything after it (with tracing on).
  const tracing = traceRequests();
  if (tracing) app.use(tracing);
  app.use((req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      end({ route: matchedRoute(req), method: req.method, status: String(res.statusCode) });
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const result = await runChecks(deps.checks);
    res.status(result.ok ? 200 : 503).json({ status: readinessStatus(result), checks: result.checks });
  });

  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({
    queues: deps.producer.allQueues().map((q) => new BullMQAdapter(q, { readOnlyMode: deps.bullBoardReadOnly })),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'kbflow' } },
  });
  // One lookup cache for every authenticated path (see KeyLookup).
  const keys = new KeyLookup(deps.tenants);
  const keyUse = deps.keyUse ? { keyUse: deps.keyUse } : {};
  app.use('/admin/queues', authenticate(keys, { admin: true, basicRealm: 'kbflow admin', ...keyUse }), board.getRouter());

  const registry = new RouteRegistry({ scopeGuard: requireScope });
  let document: Record<string, unknown> | undefined;
  const openapi = () => (document ??= buildOpenApiDocument(registry.routes()));
  app.locals.routes = registry;
  app.locals.openapi = openapi;
  app.use(docsRoutes(openapi));
  const rateLimits = new TenantRateLimits({ redis: deps.redis, prefix: deps.producer.prefix, log: deps.log });
  app.use(mcpRoutes({ tenants: keys, log: deps.log, maxBodyBytes: deps.maxBodyBytes, limitCalls: limitApiCalls(rateLimits) }));

  const v1 = express.Router();
  // The key first, the body after: an anonymous client must not make the
  // API read or parse anything (kbflow issue 14, item 3).
  v1.use(authenticate(keys, keyUse));
  // Counted before the body is read: a tenant over its rate makes the API parse nothing.
  v1.use(limitApiCalls(rateLimits));
  // Bulk bodies (CSV, NDJSON, multipart, JSON on bulk paths) stay raw streams for readBulkRows.
  v1.use(express.json({ limit: deps.maxBodyBytes, strict: true, type: (req) => !streamsBody(req as express.Request), verify: captureBodyHash }));
  // Before admission: a repeat of a request already answered gets its answer even while overloaded.
  // The lease outlasts the slowest request (a query waiting its full timeout).
  v1.use(idempotency({ store: deps.idempotency, log: deps.log, leaseMs: deps.queryTimeoutMs + 30_000, maxStreamedBytes: deps.records.maxBytes }));
  const admission = new AdmissionControl(
    { redis: deps.redis, producer: deps.producer, log: deps.log, registry: deps.registry },
    deps.admission ?? DEFAULT_ADMISSION,
  );
  // Crawls, scrapes, batches and source runs feed the scrape queue (their flow parent only waits).
  for (const path of ['/crawl', '/scrape', '/scrape/batch', '/sources/:id/runs']) v1.post(path, admission.admit(QueueName.scrape));
  for (const path of ['/records', '/documents']) v1.post(path, admission.admit(QueueName.embed));
  for (const path of ['/search', '/query', '/embed']) v1.post(path, limitVectorOperations(rateLimits));
  mountV1Routes(registry, v1, deps, admission);
  app.use('/v1', v1);

  app.use(notFound);
  app.use(errorMiddleware(deps.log));
  return app as KbflowApp;
}
