// Composition root of the embedder: consumes `embed`, writes the vector store.
import { createDb, DocumentRepository, RecordRepository, TenantLimitsCache, TenantRepository } from '@kbflow/db';
import { CachedEmbedder, createEmbedder, guardEmbedder, instrumentEmbedder, providerLimiter, rateLimitEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics, startTracing, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName, runWorkerService, onTenantPurged, TenantSlots } from '@kbflow/queues';
import { providerAndVectorBreakers } from '@kbflow/resilience';
import { createVectorStore, guardVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
import { ChunkBatcher } from './chunk-batcher.ts';
import { CoalescingUpsert } from './coalescing-upsert.ts';
import { loadEnv } from './env.ts';
import { deleteVectors } from './processors/delete-vectors.processor.ts';
import { embedChunks } from './processors/embed-chunks.processor.ts';
import { embedDocuments } from './processors/embed-documents.processor.ts';
import { embedTexts } from './processors/embed-texts.processor.ts';

const SERVICE = 'embedder';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  // Before any client is built: database clients, workers and the app decide
  // at construction whether to trace (docs/tracing.md). Off, it loads nothing.
  const tracing = await startTracing(SERVICE, env, log);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 2, 20) });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX, { attempts: env.KBFLOW_JOB_ATTEMPTS });
  const breakers = providerAndVectorBreakers(env, { registry: metrics.registry, log, service: SERVICE, report: { redis, prefix: env.KBFLOW_QUEUE_PREFIX } });
  // The provider's RPM and TPM, shared with every other replica through Redis;
  // it grows its rate back only while embed jobs are waiting.
  const embedQueue = producer.queue(QueueName.embed);
  const limiter = providerLimiter(env, 'embedding', {
    redis,
    prefix: env.KBFLOW_QUEUE_PREFIX,
    registry: metrics.registry,
    demand: async () => {
      const counts = await embedQueue.getJobCounts('waiting', 'prioritized');
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    },
  });
  // The breaker sits inside the cache: cached texts never touch the provider;
  // the limiter sits outside the breaker: waiting for room is not a failure.
  const provider = guardEmbedder(createEmbedder(env, limiter ? { onResponseHeaders: (h) => limiter.noteHeaders(h) } : {}), (call) =>
    breakers.provider.run(call),
  );
  const cache = new CachedEmbedder(limiter ? rateLimitEmbedder(provider, limiter) : provider, { maxBytes: env.KBFLOW_EMBEDDING_CACHE_MB * 1024 * 1024 });
  const embedder = instrumentEmbedder(cache, metrics.registry);
  // A purged tenant's vectors leave this process's cache too.
  const stopPurgeEvents = await onTenantPurged(redis, env.KBFLOW_QUEUE_PREFIX, (tenantId) => cache.purgeTenant(tenantId));
  const vectors = instrumentVectorStore(
    guardVectorStore(createVectorStore(env), (call) => breakers.vector.run(call)),
    metrics.registry,
  );
  let collection: Promise<void> | undefined;
  const ready = () => {
    collection ??= vectors.ensureCollection(embedder.dimensions).catch((error: unknown) => {
      collection = undefined;
      throw error;
    });
    return collection;
  };
  const documents = new DocumentRepository(db);
  // Every vector write of this process goes through one coalescing writer:
  // one LanceDB commit at a time, each carrying what the jobs of that moment wrote.
  const upserts = new CoalescingUpsert(vectors);
  const batcher = new ChunkBatcher(
    { documents, embedder, vectors: upserts, ready },
    { maxChunks: env.KBFLOW_EMBED_BATCH_MAX_CHUNKS, requestSize: env.KBFLOW_EMBED_REQUEST_SIZE },
  );
  const deps = { documents, records: new RecordRepository(db), embedder, vectors, upserts, ready, batcher, requestSize: env.KBFLOW_EMBED_REQUEST_SIZE };

  // Each tenant's share of these workers (issue 12 item 2): its jobs over it wait, delayed, attempts intact.
  const tenantLimits = new TenantLimitsCache(new TenantRepository(db));
  const tenantSlots = new TenantSlots({
    redis,
    prefix: env.KBFLOW_QUEUE_PREFIX,
    limitOf: async (id) => (await tenantLimits.limitsOf(id)).maxConcurrentProcessing,
  });
  const worker = createWorker({
    queue: QueueName.embed,
    handlers: {
      'embed-chunks': (data, ctx) => embedChunks(data, ctx, deps),
      'embed-texts': (data) => embedTexts(data, deps),
      'embed-documents': (data, ctx) => embedDocuments(data, ctx, deps),
      'delete-vectors': (data, ctx) => deleteVectors(data, ctx, deps),
    },
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
    tenantSlots,
  });

  const { port } = await runWorkerService({
    service: SERVICE,
    log,
    registry: metrics.registry,
    redis,
    producer,
    workers: [worker],
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
  log.info({ model: embedder.model, dimensions: embedder.dimensions, vectorStore: vectors.kind, metricsPort: port }, 'embedder started');
} catch (error) {
  startupFailed(SERVICE, error);
}
