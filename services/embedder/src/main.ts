// Composition root of the embedder: consumes `embed`, writes the vector store.
import { createDb, DocumentRepository } from '@kbflow/db';
import { CachedEmbedder, createEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics, ShutdownManager, startHealthServer, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName } from '@kbflow/queues';
import { createVectorStore } from '@kbflow/vector-store';
import { loadEnv } from './env.ts';
import { embedChunks, embedTexts } from './processors/embed-chunks.processor.ts';

const SERVICE = 'embedder';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 2, 20) });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX);
  const embedder = new CachedEmbedder(createEmbedder(env), redis, { keyPrefix: `${env.KBFLOW_QUEUE_PREFIX}:emb` });
  const vectors = createVectorStore(env);
  let collection: Promise<void> | undefined;
  const ready = () => {
    collection ??= vectors.ensureCollection(embedder.dimensions).catch((error: unknown) => {
      collection = undefined;
      throw error;
    });
    return collection;
  };
  const deps = { documents: new DocumentRepository(db), embedder, vectors, ready };

  const worker = createWorker({
    queue: QueueName.embed,
    handlers: {
      'embed-chunks': (data, ctx) => embedChunks(data, ctx, deps),
      'embed-texts': (data) => embedTexts(data, deps),
    },
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
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
  shutdown.register('worker', () => worker.close());
  shutdown.register('queues', () => producer.close());
  shutdown.register('vector store', () => vectors.close());
  shutdown.register('redis', () => redis.quit());
  shutdown.register('postgres', () => db.$disconnect());
  shutdown.listen();

  log.info({ model: embedder.model, dimensions: embedder.dimensions, vectorStore: vectors.kind, metricsPort: health.port }, 'embedder started');
} catch (error) {
  startupFailed(SERVICE, error);
}
