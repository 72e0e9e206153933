// Composition root of the embedder: consumes `embed`, writes the vector store.
import { DocumentRepository, RecordRepository } from '@kbflow/db';
import { CachedEmbedder, createEmbedder, guardEmbedder, instrumentEmbedder, providerLimiter, rateLimitEmbedder } from '@kbflow/embeddings';
import { startupFailed } from '@kbflow/observability';
import { createWorkerRuntime, onTenantPurged, QueueName } from '@kbflow/queues';
import { providerAndVectorBreakers } from '@kbflow/resilience';
import { createVectorStore, guardVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
import { ChunkBatcher } from './chunk-batcher.ts';
import { CoalescingUpsert } from './coalescing-upsert.ts';
import { loadConfig, SERVICE } from './env.ts';
import { deleteVectors } from './processors/delete-vectors.processor.ts';
import { embedChunks } from './processors/embed-chunks.processor.ts';
import { embedDocuments } from './processors/embed-documents.processor.ts';
import { embedTexts } from './processors/embed-texts.processor.ts';

try {
  const config = loadConfig();
  const runtime = await createWorkerRuntime(config.runtime);
  const { log, registry, redis, db, producer, prefix } = runtime;
  const breakers = providerAndVectorBreakers(config.breakers, { registry, log, service: SERVICE, report: { redis, prefix } });
  // The provider's RPM and TPM, shared with every other replica through Redis;
  // it grows its rate back only while embed jobs are waiting.
  const embedQueue = producer.queue(QueueName.embed);
  const limiter = providerLimiter(config.provider.limits, 'embedding', {
    redis,
    prefix,
    registry,
    demand: async () => {
      const counts = await embedQueue.getJobCounts('waiting', 'prioritized');
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    },
  });
  // The breaker sits inside the cache: cached texts never touch the provider;
  // the limiter sits outside the breaker: waiting for room is not a failure.
  const provider = guardEmbedder(createEmbedder(config.provider.models, limiter ? { onResponseHeaders: (h) => limiter.noteHeaders(h) } : {}), (call) =>
    breakers.provider.run(call),
  );
  const cache = new CachedEmbedder(limiter ? rateLimitEmbedder(provider, limiter) : provider, { maxBytes: config.provider.embeddingCacheBytes });
  const embedder = instrumentEmbedder(cache, registry);
  // A purged tenant's vectors leave this process's cache too.
  const stopPurgeEvents = await onTenantPurged(redis, prefix, (tenantId) => cache.purgeTenant(tenantId));
  const vectors = instrumentVectorStore(
    guardVectorStore(createVectorStore(config.vectorStore), (call) => breakers.vector.run(call)),
    registry,
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
  const batcher = new ChunkBatcher({ documents, embedder, vectors: upserts, ready }, { maxChunks: config.batchMaxChunks, requestSize: config.requestSize });
  const deps = { documents, records: new RecordRepository(db), embedder, vectors, upserts, ready, batcher, requestSize: config.requestSize };

  runtime.worker({
    queue: QueueName.embed,
    handlers: {
      'embed-chunks': (data, ctx) => embedChunks(data, ctx, deps),
      'embed-texts': (data) => embedTexts(data, deps),
      'embed-documents': (data, ctx) => embedDocuments(data, ctx, deps),
      'delete-vectors': (data, ctx) => deleteVectors(data, ctx, deps),
    },
    concurrency: config.concurrency,
    tenantLimited: true,
  });
  runtime.addCheck({ name: 'vector-store', check: () => vectors.health() });
  runtime.onClose('tenant purge events', () => stopPurgeEvents());
  runtime.onClose('breakers', () => breakers.close());
  runtime.onClose('vector store', () => vectors.close());

  const { port } = await runtime.start();
  log.info({ model: embedder.model, dimensions: embedder.dimensions, vectorStore: vectors.kind, metricsPort: port }, 'embedder started');
} catch (error) {
  startupFailed(SERVICE, error);
}
