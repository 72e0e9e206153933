import { z } from 'zod';

/**
 * Response bodies, for the OpenAPI document (and through it the typed
 * client). They describe what the handlers send; the contract test
 * (services/api/test/openapi.int.test.ts) checks real answers against them.
 * Objects are open (`z.looseObject`) where a later field may be added
 * without breaking a client. The operator endpoints' bodies are in
 * ops-responses.ts.
 */

export const isoDate = z.string().describe('ISO 8601 date-time (UTC)');

export const errorResponse = z
  .object({
    error: z.object({
      code: z.string().describe('machine-readable error code, e.g. invalid_field, unknown_field, not_found'),
      message: z.string(),
      field: z.string().optional().describe('the request field at fault, when one is'),
    }),
  })
  .meta({ id: 'Error' });

export const taskAccepted = z.object({ taskId: z.uuid() }).meta({ id: 'TaskAccepted' });

const waitReason = z
  .looseObject({ reason: z.string(), message: z.string().optional() })
  .describe(
    'why a queued or running task is not moving: its own pages still to fetch (queued), rate limit, open breaker, the tenant concurrency limit (tenant-limit), waiting for children',
  );

/** What a crawl-like task (a one-shot crawl or a source run) changed; see docs/sources.md. */
const runReport = z
  .object({
    new: z.number().int().describe('pages stored for the first time'),
    changed: z.number().int().describe('pages whose content changed since the stored version'),
    unchanged: z.number().int().describe('pages whose content hash matched the stored version (or answered 304)'),
    notModified: z
      .number()
      .int()
      .describe('of unchanged, the pages that answered 304 to a conditional request or that their sitemap lastmod showed unchanged (nothing downloaded)'),
    deleted: z
      .number()
      .int()
      .describe(
        'pages removed because they are gone from the site (404/410, redirected out of scope) or, after a complete run with deleteUnreached, no longer reached',
      ),
    failed: z.number().int().describe('pages that could not be fetched, stored or embedded'),
    bytesFetched: z.number().int().describe('body bytes read from the site'),
    durationMs: z.number().int().describe('from the first page picked up to the end (to now while running)'),
    stopReason: z.enum(['done', 'maxPages', 'quota', 'cancelled', 'failed']).optional().describe('why it stopped, once finished'),
  })
  .meta({ id: 'RunReport' });

/** A webhook as GET shows it: the secret only by its last characters. */
const webhookView = z
  .object({
    url: z.string(),
    events: z.array(z.enum(['run.started', 'run.completed', 'run.failed'])),
    secretHint: z.string().describe("the secret's last 4 characters, after an ellipsis: the secret itself is never shown again"),
  })
  .meta({ id: 'Webhook' });

/** One attempt to deliver a webhook event. */
const webhookDelivery = z
  .object({
    deliveryId: z.string().describe('the Kbflow-Delivery header: the same on every attempt of one event'),
    taskId: z.uuid(),
    event: z.enum(['run.started', 'run.completed', 'run.failed']),
    url: z.string(),
    attempt: z.number().int().describe('1 for the first attempt'),
    outcome: z.enum(['succeeded', 'failed']),
    statusCode: z.number().int().optional().describe("the receiver's HTTP status, when it answered"),
    error: z.string().optional(),
    durationMs: z.number().int(),
    createdAt: isoDate,
  })
  .meta({ id: 'WebhookDelivery' });

export const webhookDeliveryList = z
  .object({ deliveries: z.array(webhookDelivery).describe('the newest attempts first, at most 20') })
  .meta({ id: 'WebhookDeliveryList' });

const TASK_STATES = ['queued', 'running', 'cancelling', 'completed', 'failed', 'cancelled'] as const;

export const taskStatus = z
  .object({
    id: z.uuid(),
    type: z.string().describe('crawl, scrape, batch-scrape, ingest or purge'),
    state: z.enum(TASK_STATES).describe('cancelling: cancel asked, queued pages being dropped; cancelled once nothing of it is queued'),
    sourceId: z.uuid().optional().describe('the source this task is a run (or a purge) of'),
    report: runReport.optional().describe('crawls, scrapes and source runs: what the run changed'),
    progress: z
      .record(z.string(), z.number())
      .describe(
        'crawls: discovered, scraped, skipped, embedded, failed, cancelled, and of those notModified (skipped on a 304 or by sitemap lastmod), unchangedByHash (skipped: same content hash), deletedGone (404/410 or redirected out of scope: document removed), deletedUnreached (removed by deleteUnreached); ingests: received, accepted, unchanged, deleted, invalid, toEmbed, embedded',
      ),
    error: z.string().optional(),
    pruneSkipped: z.string().optional().describe('deleteUnreached was asked but removed nothing, and why: maxPages, failed pages, pages not processed'),
    waiting: waitReason.optional(),
    webhook: webhookView.optional().describe("a one-shot crawl's webhook (a source run's is the source's)"),
    params: z.record(z.string(), z.unknown()),
    result: z.unknown().optional(),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional()
      .describe(
        'the W3C trace id of the request that submitted the task, when tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT) and the trace was sampled: look it up in Jaeger or Tempo (docs/tracing.md)',
      ),
    createdAt: isoDate,
    startedAt: isoDate.optional(),
    finishedAt: isoDate.optional(),
  })
  .meta({ id: 'TaskStatus' });

const timings = z.record(z.string(), z.number()).describe('milliseconds per stage: queueWaitMs, embedMs, retrieveMs, generateMs, totalMs...');

const citation = z
  .object({
    url: z.string(),
    title: z.string(),
    snippet: z.string(),
    score: z.number(),
    page: z.number().int().optional().describe('the PDF page the cited passage is on'),
    heading: z.string().optional().describe('the heading (DOCX, Markdown) the cited passage is under'),
  })
  .meta({ id: 'Citation' });

export const queryAnswer = z
  .object({
    answer: z.string(),
    citations: z.array(citation),
    answeredBy: z.enum(['llm', 'extractive']),
    mode: z.enum(['hybrid', 'vector', 'keyword']),
    degraded: z.string().optional().describe('set when retrieval fell back (vector store down, keyword budget spent)'),
    timings,
  })
  .meta({ id: 'QueryAnswer' });

export const searchResults = z
  .object({
    mode: z.enum(['hybrid', 'vector', 'keyword']),
    degraded: z.string().optional(),
    results: z.array(
      z.object({
        chunkId: z.string(),
        documentId: z.string(),
        url: z.string(),
        title: z.string(),
        heading: z.string(),
        text: z.string(),
        contentType: z.string(),
        source: z.string(),
        updatedAt: isoDate,
        score: z.number(),
        page: z.number().int().optional(),
      }),
    ),
    timings,
  })
  .meta({ id: 'SearchResults' });

export const embeddings = z
  .looseObject({ model: z.string(), dimensions: z.number().int(), embeddings: z.array(z.array(z.number())) })
  .meta({ id: 'Embeddings' });

const rowError = z.object({ row: z.number().int(), field: z.string(), reason: z.string() });

export const recordsAccepted = z
  .object({
    taskId: z.uuid(),
    received: z.number().int(),
    accepted: z.number().int(),
    unchanged: z.number().int(),
    deleted: z.number().int(),
    invalid: z.number().int(),
    errors: z.array(rowError),
    errorsTruncated: z.boolean(),
    pruneSkipped: z
      .string()
      .optional()
      .describe('mode=full: why no record was deleted for being missing (the upload, or some batch of its sync, had invalid rows or was rejected)'),
    sync: z
      .object({
        id: z.string(),
        batches: z.number().int().describe('batches of the sync stored so far, this one included (a repeated batch counts again)'),
        final: z.boolean().describe('true: this batch ended the sync (its deletions are in deleted)'),
      })
      .optional()
      .describe('with sync: the state of the sync after this batch'),
  })
  .meta({ id: 'RecordsAccepted' });

export const documentsAccepted = z
  .object({
    taskId: z.uuid(),
    documents: z.array(
      z.object({
        url: z.string(),
        filename: z.string(),
        title: z.string(),
        format: z.enum(['pdf', 'docx', 'markdown', 'text']),
        pages: z.number().int().optional(),
        chunks: z.number().int(),
        unchanged: z.boolean(),
      }),
    ),
    failed: z
      .array(z.object({ filename: z.string(), code: z.string(), message: z.string() }))
      .describe('files that could not be read (encrypted, truncated, too many pages), each with why'),
  })
  .meta({ id: 'DocumentsAccepted' });

export const deleted = z.object({ id: z.string(), deleted: z.literal(true) });

export const caseView = z
  .looseObject({
    id: z.uuid(),
    externalId: z.string(),
    subject: z.string(),
    description: z.string(),
    resolution: z.string().nullable(),
    status: z.string().nullable(),
    priority: z.string().nullable(),
    product: z.string().nullable(),
    channel: z.string().nullable(),
    metadata: z.unknown(),
    category: z.string().nullable(),
    complete: z.boolean().nullable(),
    missingFields: z.array(z.string()),
    version: z.number().int(),
    syncedVersion: z.number().int().nullable(),
    pending: z.boolean(),
    syncedAt: isoDate.nullable(),
    documentId: z.string().nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'Case' });

export const casesPage = z.object({ cases: z.array(caseView), nextCursor: z.string().nullable() }).meta({ id: 'CasePage' });

export const casesBulkResult = z
  .looseObject({
    received: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    invalid: z.number().int(),
    errors: z.array(rowError),
    errorsTruncated: z.boolean(),
  })
  .meta({ id: 'CaseBulkResult' });

const linkedCase = z.object({
  caseId: z.string(),
  externalId: z.string(),
  subject: z.string(),
  similarity: z.number().nullable(),
  caseVersion: z.number().int().nullable(),
  currentVersion: z.number().int().nullable(),
});

const articleFields = {
  id: z.uuid(),
  category: z.string(),
  title: z.string(),
  summary: z.string(),
  symptoms: z.array(z.string()),
  resolutionSteps: z.array(z.string()),
  generatedBy: z.string(),
  status: z.string(),
  patternKey: z.string(),
  caseCount: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
};

const articleSummary = z.object(articleFields).meta({ id: 'KnowledgeArticleSummary' });
export const article = z.object({ ...articleFields, body: z.string(), linkedCases: z.array(linkedCase) }).meta({ id: 'KnowledgeArticle' });
export const articlesPage = z
  .object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int(), articles: z.array(articleSummary) })
  .meta({ id: 'KnowledgeArticlePage' });

export const knowledgeBases = z
  .object({
    knowledgeBases: z.array(z.object({ slug: z.string(), name: z.string(), documents: z.number().int(), createdAt: isoDate })),
  })
  .meta({ id: 'KnowledgeBaseList' });

export const searchAnalytics = z
  .looseObject({ since: isoDate, until: isoDate, knowledgeBase: z.string().optional(), total: z.number().int() })
  .meta({ id: 'SearchAnalytics' });

export const taskList = z
  .object({
    tasks: z.array(taskStatus),
    nextCursor: z.uuid().optional().describe('pass as `after` for the next page; absent on the last page'),
  })
  .meta({ id: 'TaskList' });

const scheduleView = z.union([z.object({ every: z.string() }), z.object({ cron: z.string(), tz: z.string().optional() })]);

/** One run of a source, in its history and as its last run. */
const sourceRun = z
  .object({
    taskId: z.uuid(),
    state: z.enum(TASK_STATES),
    trigger: z.enum(['schedule', 'manual']),
    report: runReport,
    error: z.string().optional(),
    createdAt: isoDate,
    startedAt: isoDate.optional(),
    finishedAt: isoDate.optional(),
  })
  .meta({ id: 'SourceRun' });

export const source = z
  .object({
    id: z.uuid(),
    type: z.literal('site'),
    url: z.string(),
    knowledgeBase: z.string(),
    schedule: scheduleView,
    includePaths: z.array(z.string()),
    excludePaths: z.array(z.string()),
    maxPages: z.number().int(),
    maxDepth: z.number().int(),
    engine: z.enum(['auto', 'http', 'browser']),
    respectRobots: z.boolean(),
    sitemaps: z.enum(['auto', 'off']),
    politeness: z.object({ maxConcurrency: z.number().int().optional(), minDelayMs: z.number().int().optional() }).optional(),
    deleteUnreached: z.boolean(),
    webhook: webhookView.optional(),
    lastRun: sourceRun.optional().describe('the newest run, finished or not'),
    nextRunAt: isoDate.optional().describe('when the schedule fires next'),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .meta({ id: 'Source' });

export const sourceList = z
  .object({ sources: z.array(source), nextCursor: z.uuid().optional().describe('pass as `after` for the next page; absent on the last page') })
  .meta({ id: 'SourceList' });

export const sourceRunList = z
  .object({ runs: z.array(sourceRun), nextCursor: z.uuid().optional().describe('pass as `after` for the next page; absent on the last page') })
  .meta({ id: 'SourceRunList' });

export const runStarted = z.object({ taskId: z.uuid() }).meta({ id: 'RunStarted' });
