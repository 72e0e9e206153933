import { z } from 'zod';

/**
 * The single place queue and job names are written. A reader finds here which
 * jobs exist, their payload, and (in the comments) who produces and consumes
 * them.
 */
export const QueueName = {
  /** produced by api (crawl/scrape) and scraper (discovered links); consumed by scraper */
  scrape: 'scrape',
  /** produced by scraper (chunk batches) and api (/v1/embed); consumed by embedder */
  embed: 'embed',
  /** produced by api and scraper as flow parents; consumed by aggregator */
  aggregate: 'aggregate',
  /** produced by api (query/search); consumed by aggregator */
  query: 'query',
  /** produced by maintenance's job schedulers; consumed by maintenance */
  maintenance: 'maintenance',
  /** produced by every worker after a job's last attempt; read by the api */
  deadLetter: 'dead-letter',
} as const;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);

const id = z.string().min(1).max(64);
const engine = z.enum(['auto', 'http', 'browser']);
/** hybrid: vector and full-text results fused by Reciprocal Rank Fusion. */
const retrievalMode = z.enum(['hybrid', 'vector', 'keyword']);

/** Payload schemas per queue and job name. Jobs carry ids and small batches, never pages. */
export const jobSchemas = {
  scrape: {
    'scrape-page': z.object({
      tenantId: id,
      taskId: id,
      url: z.string().url().max(2048),
      depth: z.number().int().min(0).max(100),
      engine: engine.default('auto'),
      correlationId: z.string().max(128).optional(),
    }),
  },
  embed: {
    'embed-chunks': z.object({
      tenantId: id,
      documentId: id,
      chunkIds: z.array(id).min(1).max(256),
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
      correlationId: z.string().max(128).optional(),
    }),
  },
  query: {
    'answer-query': z.object({
      tenantId: id,
      knowledgeBaseId: id,
      query: z.string().min(1).max(4000),
      topK: z.number().int().min(1).max(50),
      mode: retrievalMode.default('hybrid'),
      correlationId: z.string().max(128).optional(),
    }),
    'search-chunks': z.object({
      tenantId: id,
      knowledgeBaseId: id,
      query: z.string().min(1).max(4000),
      topK: z.number().int().min(1).max(100),
      mode: retrievalMode.default('hybrid'),
      correlationId: z.string().max(128).optional(),
    }),
  },
  maintenance: {
    'health-check': z.object({ correlationId: z.string().max(128).optional() }),
    /** produced by the schedule and by aggregator when a crawl finishes (deduplicated) */
    'compact-vector-store': z.object({ reason: z.string().max(200).default('schedule'), correlationId: z.string().max(128).optional() }),
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
} as const satisfies Record<QueueName, Record<string, z.ZodType>>;

type Schemas = typeof jobSchemas;
/** Job names of one queue. */
export type JobName<Q extends QueueName> = keyof Schemas[Q] & string;
/** The parsed payload of a job. */
export type JobData<Q extends QueueName, N extends JobName<Q>> = z.output<Schemas[Q][N] & z.ZodType>;
/** The payload a producer passes (defaults not yet applied). */
export type JobInput<Q extends QueueName, N extends JobName<Q>> = z.input<Schemas[Q][N] & z.ZodType>;

/** Every job name of a queue, for the start-up check that each has a handler. */
export function jobNamesOf<Q extends QueueName>(queue: Q): JobName<Q>[] {
  return Object.keys(jobSchemas[queue]) as JobName<Q>[];
}

/** Parses a payload with the catalog schema; throws a ZodError on mismatch. */
export function parseJobData<Q extends QueueName, N extends JobName<Q>>(queue: Q, name: N, data: unknown): JobData<Q, N> {
  const schema = (jobSchemas[queue] as Record<string, z.ZodType>)[name];
  if (!schema) throw new Error(`unknown job ${queue}/${name}`);
  return schema.parse(data) as JobData<Q, N>;
}
