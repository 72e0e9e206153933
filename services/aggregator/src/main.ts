// Composition root of the aggregator: consumes `aggregate` (document and
// crawl completion) and `query` (answers and searches).
import { DocumentRepository, KnowledgeRepository, TaskRepository, WebhookRepository } from '@kbflow/db';
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
import { startupFailed } from '@kbflow/observability';
import { createWorkerRuntime, onTenantPurged, QueueName } from '@kbflow/queues';
import { providerAndVectorBreakers } from '@kbflow/resilience';
import { createVectorStore, guardVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
import { loadConfig, SERVICE } from './env.ts';
import { completeCrawl, completeDocument } from './processors/complete.processor.ts';
import { completeIngest } from './processors/complete-ingest.processor.ts';
import { generateKnowledge } from './processors/generate-knowledge.processor.ts';
import { QueryEmbeddingCache } from './query-embedding-cache.ts';
import { answerQuery, searchChunks } from './processors/query.processor.ts';

try {
  const config = loadConfig();
  const runtime = await createWorkerRuntime(config.runtime);
  const { log, registry, redis, db, producer, prefix } = runtime;
  const breakers = providerAndVectorBreakers(config.breakers, { registry, log, service: SERVICE, report: { redis, prefix } });
  const viaProvider = <T>(call: () => Promise<T>) => breakers.provider.run(call);
  const vectors = instrumentVectorStore(
    guardVectorStore(createVectorStore(config.vectorStore), (call) => breakers.vector.run(call)),
    registry,
  );
  // The provider's RPM and TPM, shared with every other replica through Redis (none set: no limiter).
  const queryQueue = producer.queue(QueueName.query);
  const demand = async () => {
    const counts = await queryQueue.getJobCounts('waiting', 'prioritized');
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  };
  const embeddingLimiter = providerLimiter(config.provider.limits, 'embedding', { redis, prefix, registry, demand });
  const chatLimiter = providerLimiter(config.provider.limits, 'chat', { redis, prefix, registry, demand });
  const providerEmbedder = () => {
    const guarded = guardEmbedder(
      createEmbedder(config.provider.models, embeddingLimiter ? { onResponseHeaders: (h) => embeddingLimiter.noteHeaders(h) } : {}),
      viaProvider,
    );
    return embeddingLimiter ? rateLimitEmbedder(guarded, embeddingLimiter) : guarded;
  };
  const chat = createChatModel(config.provider.models);
  const documents = new DocumentRepository(db);
  const tasks = new TaskRepository(db);
  const webhooks = new WebhookRepository(db, tasks);
  const queryVectors = new CachedEmbedder(providerEmbedder(), { maxBytes: config.provider.embeddingCacheBytes });
  const caseVectors = new CachedEmbedder(providerEmbedder(), { maxBytes: config.provider.embeddingCacheBytes });
  const queryDeps = {
    documents,
    vectors,
    keywordBudgetMs: config.keywordBudgetMs,
    // Two in-process cache levels, both keyed per tenant: the LRU of recent
    // questions (by count), then the byte-bounded embedding cache.
    embedder: new QueryEmbeddingCache(instrumentEmbedder(queryVectors, registry), { maxEntries: config.queryCacheSize, registry }),
    chat: chat ? (chatLimiter ? rateLimitChatModel(guardChatModel(chat, viaProvider), chatLimiter) : guardChatModel(chat, viaProvider)) : undefined,
    streams: { redis, prefix },
  };
  const knowledgeDeps = {
    knowledge: new KnowledgeRepository(db),
    producer,
    // Case texts skip the query LRU; the cache spares a paid provider the unchanged cases of the last run.
    embedder: instrumentEmbedder(caseVectors, registry),
    chat: queryDeps.chat,
    ...config.knowledge,
  };

  runtime.worker({
    queue: QueueName.aggregate,
    handlers: {
      'complete-document': (data, ctx) => completeDocument(data, ctx, { tasks, documents, vectors }),
      'complete-crawl': (data, ctx) => completeCrawl(data, ctx, { tasks, documents, vectors, producer, webhooks }),
      'complete-ingest': (data, ctx) => completeIngest(data, ctx, { tasks, producer }),
      'generate-knowledge': (data, ctx) => generateKnowledge(data, ctx, knowledgeDeps),
    },
    concurrency: Math.max(1, Math.floor(config.concurrency / 2)),
  });
  runtime.worker({
    queue: QueueName.query,
    handlers: {
      'answer-query': (data, ctx) => answerQuery(data, ctx, queryDeps),
      'search-chunks': (data, ctx) => searchChunks(data, ctx, queryDeps),
    },
    concurrency: config.concurrency,
  });

  // A purged tenant's vectors and questions leave this process's caches too.
  const stopPurgeEvents = await onTenantPurged(redis, prefix, (tenantId) => {
    queryVectors.purgeTenant(tenantId);
    caseVectors.purgeTenant(tenantId);
    queryDeps.embedder.purgeTenant(tenantId);
  });
  runtime.addCheck({ name: 'vector-store', check: () => vectors.health() });
  runtime.onClose('tenant purge events', () => stopPurgeEvents());
  runtime.onClose('breakers', () => breakers.close());
  runtime.onClose('vector store', () => vectors.close());

  const { port } = await runtime.start();
  log.info({ answers: queryDeps.chat ? `llm:${queryDeps.chat.model}` : 'extractive', vectorStore: vectors.kind, metricsPort: port }, 'aggregator started');
} catch (error) {
  startupFailed(SERVICE, error);
}
