// Composition root of the aggregator: consumes `aggregate` (document and
// crawl completion) and `query` (answers and searches).
import { createDb, DocumentRepository, KnowledgeRepository, TaskRepository, WebhookRepository } from '@kbflow/db';
import {
  CachedEmbedder,
  createChatModel,
  createEmbedder,
  guardChatModel,
  guardEmbedder,
  instrumentEmbedder,
  providerLimiter,
  rateLimitChatModel,
  rateLimitEmbedder,
} from '@kbflow/embeddings';
import { createLogger, createMetrics, startTracing, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, onTenantPurged, QueueName, runWorkerService } from '@kbflow/queues';
import { providerAndVectorBreakers } from '@kbflow/resilience';
import { createVectorStore, guardVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
import { loadEnv } from './env.ts';
import { completeCrawl, completeDocument } from './processors/complete.processor.ts';
import { completeIngest } from './processors/complete-ingest.processor.ts';
import { generateKnowledge } from './processors/generate-knowledge.processor.ts';
import { QueryEmbeddingCache } from './query-embedding-cache.ts';
import { answerQuery, searchChunks } from './processors/query.processor.ts';

const SERVICE = 'aggregator';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  // Before any client is built: database clients, workers and the app decide
  // at construction whether to trace (docs/tracing.md). Off, it loads nothing.
  const tracing = await startTracing(SERVICE, env, log);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 4, 30) });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX, { attempts: env.KBFLOW_JOB_ATTEMPTS });
  const breakers = providerAndVectorBreakers(env, { registry: metrics.registry, log, service: SERVICE, report: { redis, prefix: env.KBFLOW_QUEUE_PREFIX } });
  const viaProvider = <T>(call: () => Promise<T>) => breakers.provider.run(call);
  const vectors = instrumentVectorStore(
    guardVectorStore(createVectorStore(env), (call) => breakers.vector.run(call)),
    metrics.registry,
  );
  // The provider's RPM and TPM, shared with every other replica through Redis (none set: no limiter).
  const queryQueue = producer.queue(QueueName.query);
  const demand = async () => {
    const counts = await queryQueue.getJobCounts('waiting', 'prioritized');
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  };
  const embeddingLimiter = providerLimiter(env, 'embedding', { redis, prefix: env.KBFLOW_QUEUE_PREFIX, registry: metrics.registry, demand });
  const chatLimiter = providerLimiter(env, 'chat', { redis, prefix: env.KBFLOW_QUEUE_PREFIX, registry: metrics.registry, demand });
  const providerEmbedder = () => {
    const guarded = guardEmbedder(createEmbedder(env, embeddingLimiter ? { onResponseHeaders: (h) => embeddingLimiter.noteHeaders(h) } : {}), viaProvider);
    return embeddingLimiter ? rateLimitEmbedder(guarded, embeddingLimiter) : guarded;
  };
  const chat = createChatModel(env);
  const documents = new DocumentRepository(db);
  const tasks = new TaskRepository(db);
  const webhooks = new WebhookRepository(db, tasks);
  const cacheBytes = env.KBFLOW_EMBEDDING_CACHE_MB * 1024 * 1024;
  const queryVectors = new CachedEmbedder(providerEmbedder(), { maxBytes: cacheBytes });
  const caseVectors = new CachedEmbedder(providerEmbedder(), { maxBytes: cacheBytes });
  const queryDeps = {
    documents,
    vectors,
    keywordBudgetMs: env.KBFLOW_KEYWORD_BUDGET_MS > 0 ? env.KBFLOW_KEYWORD_BUDGET_MS : undefined,
    // Two in-process cache levels, both keyed per tenant: the LRU of recent
    // questions (by count), then the byte-bounded embedding cache.
    embedder: new QueryEmbeddingCache(instrumentEmbedder(queryVectors, metrics.registry), {
      maxEntries: env.KBFLOW_QUERY_CACHE_SIZE,
      registry: metrics.registry,
    }),
    chat: chat ? (chatLimiter ? rateLimitChatModel(guardChatModel(chat, viaProvider), chatLimiter) : guardChatModel(chat, viaProvider)) : undefined,
    streams: { redis, prefix: env.KBFLOW_QUEUE_PREFIX },
  };
  const knowledgeDeps = {
    knowledge: new KnowledgeRepository(db),
    producer,
    // Case texts skip the query LRU; the cache spares a paid provider the unchanged cases of the last run.
    embedder: instrumentEmbedder(caseVectors, metrics.registry),
    chat: queryDeps.chat,
    minCases: env.KBFLOW_KNOWLEDGE_MIN_CASES,
    similarity: env.KBFLOW_KNOWLEDGE_SIMILARITY,
    lockTimeoutMs: env.KBFLOW_KNOWLEDGE_TIMEOUT_MS,
  };
  const common = {
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
  };

  const aggregateWorker = createWorker({
    ...common,
    queue: QueueName.aggregate,
    handlers: {
      'complete-document': (data, ctx) => completeDocument(data, ctx, { tasks, documents, vectors }),
      'complete-crawl': (data, ctx) => completeCrawl(data, ctx, { tasks, documents, vectors, producer, webhooks }),
      'complete-ingest': (data, ctx) => completeIngest(data, ctx, { tasks, producer }),
      'generate-knowledge': (data, ctx) => generateKnowledge(data, ctx, knowledgeDeps),
    },
    concurrency: Math.max(1, Math.floor(env.KBFLOW_WORKER_CONCURRENCY / 2)),
  });
  const queryWorker = createWorker({
    ...common,
    queue: QueueName.query,
    handlers: {
      'answer-query': (data, ctx) => answerQuery(data, ctx, queryDeps),
      'search-chunks': (data, ctx) => searchChunks(data, ctx, queryDeps),
    },
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
  });

  // A purged tenant's vectors and questions leave this process's caches too.
  const stopPurgeEvents = await onTenantPurged(redis, env.KBFLOW_QUEUE_PREFIX, (tenantId) => {
    queryVectors.purgeTenant(tenantId);
    caseVectors.purgeTenant(tenantId);
    queryDeps.embedder.purgeTenant(tenantId);
  });
  const { port } = await runWorkerService({
    service: SERVICE,
    log,
    registry: metrics.registry,
    redis,
    producer,
    workers: [aggregateWorker, queryWorker],
    checks: [
      { name: 'redis', check: () => redis.ping() },
      { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
      { name: 'vector-store', check: () => vectors.health() },
    ],
    metricsPort: env.KBFLOW_METRICS_PORT,
    metricsHost: env.KBFLOW_METRICS_HOST,
    shutdownTimeoutMs: env.KBFLOW_SHUTDOWN_TIMEOUT_MS,
    close: [
      { name: 'tenant purge events', fn: () => stopPurgeEvents() },
      { name: 'breakers', fn: () => breakers.close() },
      { name: 'vector store', fn: () => vectors.close() },
      { name: 'postgres', fn: () => db.$disconnect() },
      // Last of the service's own steps: flushes the spans of everything above.
      ...(tracing ? [{ name: 'tracing', fn: () => tracing.shutdown() }] : []),
    ],
  });

  log.info({ answers: queryDeps.chat ? `llm:${queryDeps.chat.model}` : 'extractive', vectorStore: vectors.kind, metricsPort: port }, 'aggregator started');
} catch (error) {
  startupFailed(SERVICE, error);
}
