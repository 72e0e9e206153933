// Composition root of the aggregator: consumes `aggregate` (document and
// crawl completion) and `query` (answers and searches).
import { createDb, DocumentRepository, TaskRepository } from '@kbflow/db';
import { CachedEmbedder, createChatModel, createEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics, ShutdownManager, startHealthServer, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName } from '@kbflow/queues';
import { createVectorStore } from '@kbflow/vector-store';
import { loadEnv } from './env.ts';
import { completeCrawl, completeDocument } from './processors/complete.processor.ts';
import { answerQuery, searchChunks } from './processors/query.processor.ts';

const SERVICE = 'aggregator';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 4, 30) });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX);
  const vectors = createVectorStore(env);
  const documents = new DocumentRepository(db);
  const tasks = new TaskRepository(db);
  const queryDeps = {
    documents,
    vectors,
    embedder: new CachedEmbedder(createEmbedder(env), redis, { keyPrefix: `${env.KBFLOW_QUEUE_PREFIX}:emb` }),
    chat: createChatModel(env),
  };
  const common = { connection: redis, producer, log, registry: metrics.registry };

  const aggregateWorker = createWorker({
    ...common,
    queue: QueueName.aggregate,
    handlers: {
      'complete-document': (data, ctx) => completeDocument(data, ctx, { tasks, documents, vectors }),
      'complete-crawl': (data, ctx) => completeCrawl(data, ctx, { tasks, producer }),
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

  const health = await startHealthServer({
    port: env.KBFLOW_METRICS_PORT,
    host: env.KBFLOW_METRICS_HOST,
    registry: metrics.registry,
    checks: [
      { name: 'redis', check: () => redis.ping() },
      { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
      { name: 'vector-store', check: () => vectors.health() },
    ],
  });

  const shutdown = new ShutdownManager(log, env.KBFLOW_SHUTDOWN_TIMEOUT_MS);
  shutdown.register('health server', () => health.close());
  shutdown.register('workers', () => Promise.all([aggregateWorker.close(), queryWorker.close()]));
  shutdown.register('queues', () => producer.close());
  shutdown.register('vector store', () => vectors.close());
  shutdown.register('redis', () => redis.quit());
  shutdown.register('postgres', () => db.$disconnect());
  shutdown.listen();

  log.info({ answers: queryDeps.chat ? `llm:${queryDeps.chat.model}` : 'extractive', vectorStore: vectors.kind, metricsPort: health.port }, 'aggregator started');
} catch (error) {
  startupFailed(SERVICE, error);
}
