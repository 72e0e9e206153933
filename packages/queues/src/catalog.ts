import { z } from 'zod';

/**
 * The single place queue and job names are written. A reader finds here which
 * jobs exist, their payload, and (in the comments) who produces and consumes
 * them.
 */
export const QueueName = {
  /** produced by api (crawl/scrape) and scraper (discovered links); consumed by scraper */
  scrape: 'scrape',
  /**
   * consumed by embedder; produced by (job names in brackets):
   * - scraper: processors/scrape-page (embed-chunks as flow children, delete-vectors);
   * - api: routes/document (embed-documents, flow children of an upload's
   *   ingest), routes/record (embed-documents, delete-vectors), routes/case
   *   (delete-vectors), routes/knowledge (embed-documents, delete-vectors),
   *   routes/query (embed-texts for /v1/embed);
   * - aggregator: processors/complete (delete-vectors), processors/generate-knowledge
   *   (embed-documents, delete-vectors);
   * - maintenance: processors/case-sync (embed-documents, delete-vectors),
   *   processors/vectorization-sweep (embed-documents), processors/purge-source
   *   (delete-vectors).
   */
  embed: 'embed',
  /** produced by api and scraper as flow parents; consumed by aggregator */
  aggregate: 'aggregate',
  /** produced by api (query/search); consumed by aggregator */
  query: 'query',
  /** produced by maintenance's job schedulers; consumed by maintenance */
  maintenance: 'maintenance',
  /**
   * produced by scraper (run.started) and aggregator (run.completed,
   * run.failed) when a crawl task with a webhook changes state; consumed by
   * maintenance, which signs and POSTs each event (docs/webhooks.md)
   */
  webhook: 'webhook',
  /** produced by every worker after a job's last attempt; read by the api */
  deadLetter: 'dead-letter',
} as const;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);

const id = z.string().min(1).max(64);

/**
 * The events a webhook may subscribe to. A cancelled run ends with
 * `run.completed` (its `state` is `cancelled`, its report's `stopReason`
 * too), so a subscriber to the three learns of every run's end.
 */
export const WEBHOOK_EVENTS = ['run.started', 'run.completed', 'run.failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
const engine = z.enum(['auto', 'http', 'browser']);
/** hybrid: vector and full-text results fused by Reciprocal Rank Fusion. */
const retrievalMode = z.enum(['hybrid', 'vector', 'keyword']);
const contentType = z.enum(['page', 'record', 'case', 'article']);

/**
 * What a search or query is narrowed to, besides its tenant and knowledge
 * base. Content types are filtered inside the vector store; sources and the
 * date range (the document's last change) in PostgreSQL.
 */
export const retrievalFilters = z.object({
  contentTypes: z.array(contentType).min(1).max(4).optional(),
  sources: z.array(z.string().min(1).max(512)).min(1).max(50).optional(),
  /** ISO 8601; documents changed at or after. */
  since: z.string().datetime({ offset: true }).optional(),
  /** ISO 8601; documents changed before. */
  until: z.string().datetime({ offset: true }).optional(),
});
export type RetrievalFilters = z.infer<typeof retrievalFilters>;

const retrievalOptions = {
  mode: retrievalMode.default('hybrid'),
  filters: retrievalFilters.default({}),
  /** Collapse chunks whose text is the same or nearly the same (on by default). */
  collapseDuplicates: z.boolean().default(true),
  /** Maximal Marginal Relevance: trade relevance for diversity (0 = off). */
  diversity: z.number().min(0).max(1).default(0),
};

/** A schedule's job: `manual` when triggered through `POST /v1/schedules/:name/trigger`. */
const scheduleRun = z.object({
  trigger: z.enum(['schedule', 'manual']).default('schedule'),
  correlationId: z.string().max(128).optional(),
});

/**
 * Payload schemas per queue and job name, as written; {@link jobSchemas}
 * (below) is these with the trace context added to each. Jobs carry ids
 * and small batches, never pages.
 */
const payloadSchemas = {
  scrape: {
    'scrape-page': z.object({
      tenantId: id,
      taskId: id,
      url: z.string().url().max(2048),
      depth: z.number().int().min(0).max(100),
      engine: engine.default('auto'),
      correlationId: z.string().max(128).optional(),
      /** The page's `<lastmod>` in a sitemap, when it was found there (W3C datetime, as written). */
      lastmod: z.string().max(64).optional(),
      /** Times this page found its host backed off (429/503 with Retry-After); bounded so a host that never recovers fails it. */
      backoffs: z.number().int().min(0).max(1000).optional(),
    }),
  },
  embed: {
    'embed-chunks': z.object({
      tenantId: id,
      documentId: id,
      chunkIds: z.array(id).min(1).max(256),
      correlationId: z.string().max(128).optional(),
    }),
    /**
     * Records, cases and articles: many small documents per job (their
     * chunks are already stored). `staleChunkIds` are the vectors of chunks
     * the new versions replaced. `weighting: 'article'` embeds each chunk as
     * title 3x + summary 2x + chunk 1x (knowledge articles).
     */
    'embed-documents': z.object({
      tenantId: id,
      taskId: id.optional(),
      documentIds: z.array(id).min(1).max(1000),
      staleChunkIds: z.array(id).max(20_000).default([]),
      weighting: z.enum(['none', 'article']).default('none'),
      correlationId: z.string().max(128).optional(),
    }),
    /** Removes the vectors of deleted documents (their rows are already gone). */
    'delete-vectors': z.object({
      tenantId: id,
      documentIds: z.array(id).max(1000).default([]),
      chunkIds: z.array(id).max(20_000).default([]),
      correlationId: z.string().max(128).optional(),
    }),
    'embed-texts': z.object({
      tenantId: id,
      texts: z.array(z.string().min(1).max(32_000)).min(1).max(128),
      correlationId: z.string().max(128).optional(),
    }),
  },
  aggregate: {
    'complete-document': z.object({
      tenantId: id,
      taskId: id,
      documentId: id,
      url: z.string().max(2048),
      /** The document had an earlier version, whose stale vectors must go. */
      replacesPrevious: z.boolean().default(true),
      correlationId: z.string().max(128).optional(),
    }),
    'complete-crawl': z.object({
      tenantId: id,
      taskId: id,
      /** Source runs: remove the pages the run did not reach once it finished completely (issue 11 item 4). */
      deleteUnreached: z.boolean().optional(),
      correlationId: z.string().max(128).optional(),
    }),
    /** Flow parent over an ingest task's `embed-documents` jobs: final counts, task completed. */
    'complete-ingest': z.object({
      tenantId: id,
      taskId: id,
      correlationId: z.string().max(128).optional(),
    }),
    /**
     * Finds recurring case patterns and writes or refreshes their articles;
     * every tenant and knowledge base with cases when none is given.
     */
    'generate-knowledge': z.object({
      tenantId: id.optional(),
      knowledgeBaseId: id.optional(),
      correlationId: z.string().max(128).optional(),
    }),
  },
  query: {
    'answer-query': z.object({
      tenantId: id,
      knowledgeBaseId: id,
      query: z.string().min(1).max(4000),
      topK: z.number().int().min(1).max(50),
      ...retrievalOptions,
      /** The api reads the answer as it forms, from the job's query stream (see query-stream.ts). */
      stream: z.boolean().default(false),
      correlationId: z.string().max(128).optional(),
    }),
    'search-chunks': z.object({
      tenantId: id,
      knowledgeBaseId: id,
      query: z.string().min(1).max(4000),
      topK: z.number().int().min(1).max(100),
      ...retrievalOptions,
      correlationId: z.string().max(128).optional(),
    }),
  },
  maintenance: {
    'health-check': z.object({ correlationId: z.string().max(128).optional() }),
    /** produced by the schedule and by aggregator when a crawl finishes (deduplicated) */
    'compact-vector-store': z.object({ reason: z.string().max(200).default('schedule'), correlationId: z.string().max(128).optional() }),
    /** Picks up new and changed cases: completeness, category, vectors. */
    'case-sync': scheduleRun,
    /** Enqueues `aggregate/generate-knowledge` and waits for it, so the run records its outcome. */
    'generate-knowledge': scheduleRun,
    /** Indexes what is not indexed, deletes vectors without a row, exports and repairs drift. */
    'vectorization-sweep': scheduleRun,
    /**
     * A run of a source (issue 11): produced by the source's job scheduler
     * (`source-<id>`, registered by the api; re-registered by maintenance at
     * start); starts a crawl task unless a run is in progress (then skipped).
     */
    'run-source': z.object({ tenantId: id, sourceId: id, correlationId: z.string().max(128).optional() }),
    /** produced by api (`DELETE /v1/sources/:id?purge=true`): removes the source's documents, chunks and vectors. */
    'purge-source': z.object({ tenantId: id, sourceId: id, taskId: id, correlationId: z.string().max(128).optional() }),
  },
  webhook: {
    /**
     * One event to one receiver. The URL and secret are not in the job (Bull
     * Board shows job data): the worker reads them from PostgreSQL at each
     * attempt, so a PATCHed or removed webhook takes effect at once.
     */
    'deliver-webhook': z.object({
      tenantId: id,
      taskId: id,
      /** Whose webhook and delivery log: the source of a run, else the crawl task itself. */
      targetId: id,
      /** Sent as `Kbflow-Delivery`: the same on every attempt, so receivers can dedupe. */
      deliveryId: z.string().min(1).max(128),
      event: z.enum(WEBHOOK_EVENTS),
      /** The JSON body, built when the event happened: ids, state, run report, timestamps (a few hundred bytes). */
      payload: z.record(z.string(), z.unknown()),
      correlationId: z.string().max(128).optional(),
    }),
  },
  'dead-letter': {
    'dead-letter': z.object({
      queue: z.string(),
      jobName: z.string(),
      jobId: z.string(),
      data: z.unknown(),
      error: z.string(),
      attemptsMade: z.number().int(),
      failedAt: z.string(),
      stacktrace: z.array(z.string()).default([]),
    }),
  },
} as const satisfies Record<QueueName, Record<string, z.ZodObject>>;

/**
 * W3C trace context, which every payload may carry (docs/tracing.md): the
 * producer sets it from the active span, createWorker starts the job's span
 * as its child. Lenient on purpose: a malformed value starts a new trace
 * rather than failing the job. 512 is the tracestate length W3C asks every
 * vendor to propagate; the producer drops a longer one.
 */
export const traceContextShape = {
  traceparent: z.string().max(128).optional(),
  tracestate: z.string().max(512).optional(),
};

type WithTraceContext<S> = S extends z.ZodObject<infer Shape, infer Config> ? z.ZodObject<Shape & typeof traceContextShape, Config> : never;
type JobSchemas<T> = { readonly [Q in keyof T]: { readonly [N in keyof T[Q]]: WithTraceContext<T[Q][N]> } };

/**
 * The payload schema of every job: as written above, plus the trace context.
 * Added here, in one place, so that a job defined later cannot forget it
 * (zod drops unknown keys: a schema without the fields would silently cut
 * the trace at its queue).
 */
export const jobSchemas = Object.fromEntries(
  Object.entries(payloadSchemas).map(([queue, jobs]) => [
    queue,
    Object.fromEntries(Object.entries(jobs).map(([name, schema]) => [name, (schema as z.ZodObject).extend(traceContextShape)])),
  ]),
) as unknown as JobSchemas<typeof payloadSchemas>;

type Schemas = typeof jobSchemas;
/** Job names of one queue. */
export type JobName<Q extends QueueName> = keyof Schemas[Q] & string;
/** The parsed payload of a job. */
export type JobData<Q extends QueueName, N extends JobName<Q>> = z.output<Schemas[Q][N] & z.ZodType>;
/** The payload a producer passes (defaults not yet applied). */
export type JobInput<Q extends QueueName, N extends JobName<Q>> = z.input<Schemas[Q][N] & z.ZodType>;

/**
 * The maintenance schedules (BullMQ job schedulers, keyed by these names,
 * each running the maintenance job of the same name). The api lists and
 * triggers them; maintenance registers and runs them.
 */
export const SCHEDULE_NAMES = [
  'health-check',
  'compact-vector-store',
  'case-sync',
  'generate-knowledge',
  'vectorization-sweep',
] as const satisfies readonly JobName<'maintenance'>[];
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

/** Every job name of a queue, for the start-up check that each has a handler. */
export function jobNamesOf<Q extends QueueName>(queue: Q): JobName<Q>[] {
  return Object.keys(jobSchemas[queue]) as JobName<Q>[];
}

/** Parses a payload with the catalog schema; throws a ZodError on mismatch. */
export function parseJobData<Q extends QueueName, N extends JobName<Q>>(queue: Q, name: N, data: unknown): JobData<Q, N> {
  const schema = (jobSchemas[queue] as unknown as Record<string, z.ZodType>)[name];
  if (!schema) throw new Error(`unknown job ${queue}/${name}`);
  return schema.parse(data) as JobData<Q, N>;
}
