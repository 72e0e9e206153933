import { z } from 'zod';
import { booleanFromString, commonOptions, type CommonEnv } from './common-env.ts';
import { VECTOR_STORE_DEFAULTS, WORKER_LOCK_DEFAULTS } from './defaults.ts';
import { EnvError } from './parse-env.ts';

/** Where vectors live: LanceDB in a local directory by default, Qdrant in production. */
export const vectorStoreEnvShape = {
  KBFLOW_VECTOR_STORE: z.enum(['lancedb', 'qdrant']).default('lancedb'),
  KBFLOW_LANCEDB_DIR: z.string().min(1).default('.data/lancedb'),
  /** Required when KBFLOW_VECTOR_STORE=qdrant (checked when the store is created). */
  QDRANT_URL: z.url({ protocol: /^https?$/ }).optional(),
  QDRANT_API_KEY: z.string().min(1).optional(),
  KBFLOW_VECTOR_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/)
    .default(VECTOR_STORE_DEFAULTS.collection),
  /** LanceDB: rows from which compaction builds an ANN (IVF_PQ) index on the vectors. */
  KBFLOW_VECTOR_INDEX_MIN_ROWS: z.coerce.number().int().min(256).default(VECTOR_STORE_DEFAULTS.indexMinRows),
  /**
   * LanceDB: bounds of the in-process caches of index partitions and file
   * metadata, per process. Lance's own defaults (6 GB and 1 GB) would let a
   * long-running worker grow far past its container's memory on a large table.
   */
  KBFLOW_LANCEDB_INDEX_CACHE_MB: z.coerce.number().int().min(1).max(65_536).default(VECTOR_STORE_DEFAULTS.indexCacheMb),
  KBFLOW_LANCEDB_METADATA_CACHE_MB: z.coerce.number().int().min(1).max(65_536).default(VECTOR_STORE_DEFAULTS.metadataCacheMb),
};

/** The embedding and chat provider: OpenAI-compatible when a key is set, offline otherwise. */
export const providerEnvShape = {
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  /** Used with a key; the offline embedder has a model of its own. */
  KBFLOW_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
  KBFLOW_EMBEDDING_DIMENSIONS: z.coerce.number().int().min(8).max(8192).optional(),
  /** Used with a key; without one answers are extractive. */
  KBFLOW_CHAT_MODEL: z.string().min(1).default('gpt-4o-mini'),
  /**
   * The embedding cache's bound per process, MB (in memory, per tenant:
   * never in the queues' Redis, see CachedEmbedder). 0 turns it off.
   */
  KBFLOW_EMBEDDING_CACHE_MB: z.coerce.number().int().min(0).max(65_536).default(64),
  /**
   * The provider account's limits, shared by every replica through Redis
   * (ProviderRateLimiter): requests and tokens per window for embeddings and
   * for chat. Unset: no limiter (each 429 still rate-limits the queue).
   */
  KBFLOW_EMBEDDING_RPM: z.coerce.number().int().min(1).optional(),
  KBFLOW_EMBEDDING_TPM: z.coerce.number().int().min(1).optional(),
  KBFLOW_CHAT_RPM: z.coerce.number().int().min(1).optional(),
  KBFLOW_CHAT_TPM: z.coerce.number().int().min(1).optional(),
  /** The window those limits count over: a minute, as providers state RPM and TPM (shorter only in tests). */
  KBFLOW_PROVIDER_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
};

/** Every worker serves /metrics, /healthz and /readyz on a small port of its own. */
export function workerEnvShape(defaultMetricsPort: number, defaultConcurrency: number) {
  return {
    KBFLOW_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(defaultMetricsPort),
    /** Loopback by default (a local run); the image, compose and Kubernetes set 0.0.0.0 so Prometheus can scrape. */
    KBFLOW_METRICS_HOST: z.string().default('127.0.0.1'),
    KBFLOW_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(defaultConcurrency),
    /**
     * How long a job's lock lives without renewal, and how often stalled jobs
     * are looked for. A killed worker's job returns after at most
     * lock + 2 x interval (BullMQ's checker can skip one beat): about 90 s
     * with the defaults, which tolerate long event-loop stalls.
     */
    KBFLOW_LOCK_DURATION_MS: z.coerce.number().int().min(1000).max(600_000).default(WORKER_LOCK_DEFAULTS.lockDurationMs),
    KBFLOW_STALLED_INTERVAL_MS: z.coerce.number().int().min(1000).max(600_000).default(WORKER_LOCK_DEFAULTS.stalledIntervalMs),
  };
}

/** The scraper's safety limits. */
export const scraperEnvShape = {
  KBFLOW_ALLOW_PRIVATE_NETWORKS: booleanFromString.default(false),
  KBFLOW_CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
  /** Chromium's renderer sandbox: auto (on unless running as root), on (required), off; see BrowserSandbox in the scraper. */
  KBFLOW_BROWSER_SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  KBFLOW_MAX_PAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  KBFLOW_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(20_000),
  KBFLOW_MAX_REDIRECTS: z.coerce.number().int().min(0).max(20).default(5),
  /** Pages read of one PDF (crawled or uploaded) at most; a longer one fails that document with the reason. */
  KBFLOW_MAX_DOCUMENT_PAGES: z.coerce.number().int().min(1).max(100_000).default(500),
  /** Sent by both engines and on robots.txt and sitemap requests; robots.txt groups are matched against its product token (`kbflow`). */
  KBFLOW_USER_AGENT: z.string().min(1).default('kbflow/0.1 (+https://github.com/kbflow/kbflow)'),
  /** How long a host's robots.txt is kept in Redis before it is read again (RFC 9309 asks for at most a day). */
  KBFLOW_ROBOTS_CACHE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  /** Requests in flight to one host at once, across all scraper replicas, unless a crawl's `politeness.maxConcurrency` says otherwise. */
  KBFLOW_HOST_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Least time between two requests to one host (a robots.txt Crawl-delay raises it), unless a crawl's `politeness.minDelayMs` says otherwise. */
  KBFLOW_HOST_MIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /** Longest a 429/503 Retry-After (or a Crawl-delay) may hold a host back. */
  KBFLOW_HOST_MAX_BACKOFF_MS: z.coerce.number().int().min(1000).max(3_600_000).default(600_000),
  /** Bytes of one sitemap (after gunzip) read at most; a larger one is cut there. */
  KBFLOW_SITEMAP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  /** Sitemap files (indexes included) read per crawl at most. */
  KBFLOW_SITEMAP_MAX_FILES: z.coerce.number().int().min(1).max(1000).default(20),
};

/** Circuit breaker thresholds (docs/architecture.md, Circuit breakers). */
export const breakerEnvShape = {
  KBFLOW_BREAKER_PROVIDER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  KBFLOW_BREAKER_PROVIDER_RESET_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  KBFLOW_BREAKER_VECTOR_FAILURES: z.coerce.number().int().min(1).max(1000).default(3),
  KBFLOW_BREAKER_VECTOR_RESET_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  KBFLOW_BREAKER_BROWSER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  KBFLOW_BREAKER_BROWSER_RESET_MS: z.coerce.number().int().min(100).max(3_600_000).default(45_000),
};

type Shaped<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>>;
export type VectorStoreEnv = Shaped<typeof vectorStoreEnvShape>;
export type ProviderEnv = Shaped<typeof providerEnvShape>;
export type WorkerEnv = Shaped<ReturnType<typeof workerEnvShape>>;
export type BreakerEnv = Shaped<typeof breakerEnvShape>;

/** The vector store's options (packages/vector-store: VectorStoreOptions). */
export function vectorStoreOptions(env: VectorStoreEnv) {
  if (env.KBFLOW_VECTOR_STORE === 'qdrant' && !env.QDRANT_URL) throw new EnvError(['QDRANT_URL: is required when KBFLOW_VECTOR_STORE=qdrant']);
  return {
    kind: env.KBFLOW_VECTOR_STORE,
    lancedbDir: env.KBFLOW_LANCEDB_DIR,
    qdrantUrl: env.QDRANT_URL,
    qdrantApiKey: env.QDRANT_API_KEY,
    collection: env.KBFLOW_VECTOR_COLLECTION,
    indexMinRows: env.KBFLOW_VECTOR_INDEX_MIN_ROWS,
    indexCacheMb: env.KBFLOW_LANCEDB_INDEX_CACHE_MB,
    metadataCacheMb: env.KBFLOW_LANCEDB_METADATA_CACHE_MB,
  };
}

/** The provider's models, limits and the embedding cache (packages/embeddings: ProviderModelOptions, ProviderLimitOptions). */
export function providerOptions(env: ProviderEnv) {
  return {
    models: {
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      embeddingModel: env.KBFLOW_EMBEDDING_MODEL,
      embeddingDimensions: env.KBFLOW_EMBEDDING_DIMENSIONS,
      chatModel: env.KBFLOW_CHAT_MODEL,
    },
    limits: {
      apiKey: env.OPENAI_API_KEY,
      embedding: { requestsPerWindow: env.KBFLOW_EMBEDDING_RPM, tokensPerWindow: env.KBFLOW_EMBEDDING_TPM },
      chat: { requestsPerWindow: env.KBFLOW_CHAT_RPM, tokensPerWindow: env.KBFLOW_CHAT_TPM },
      windowMs: env.KBFLOW_PROVIDER_LIMIT_WINDOW_MS,
    },
    embeddingCacheBytes: env.KBFLOW_EMBEDDING_CACHE_MB * 1024 * 1024,
  };
}

/** The thresholds of each breaker (packages/resilience: BreakerThresholds). */
export function breakerOptions(env: BreakerEnv) {
  return {
    provider: { failureThreshold: env.KBFLOW_BREAKER_PROVIDER_FAILURES, resetTimeoutMs: env.KBFLOW_BREAKER_PROVIDER_RESET_MS },
    vector: { failureThreshold: env.KBFLOW_BREAKER_VECTOR_FAILURES, resetTimeoutMs: env.KBFLOW_BREAKER_VECTOR_RESET_MS },
    browser: { failureThreshold: env.KBFLOW_BREAKER_BROWSER_FAILURES, resetTimeoutMs: env.KBFLOW_BREAKER_BROWSER_RESET_MS },
  };
}

/**
 * The worker runtime's options (packages/queues: WorkerRuntimeOptions, but
 * the service's name and database pool size), and the worker concurrency.
 */
export function workerRuntimeOptions(env: CommonEnv & WorkerEnv) {
  return {
    ...commonOptions(env),
    metricsPort: env.KBFLOW_METRICS_PORT,
    metricsHost: env.KBFLOW_METRICS_HOST,
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
  };
}
