// Composition root of the maintenance service: owns the schedules and
// consumes `maintenance`.
import { createDb } from '@kbflow/db';
import { createLogger, createMetrics, ShutdownManager, startHealthServer, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName } from '@kbflow/queues';
import { createVectorStore } from '@kbflow/vector-store';
import { Gauge } from 'prom-client';
import { loadEnv } from './env.ts';
import { compactVectorStore } from './processors/compact-vector-store.processor.ts';
import { healthCheck } from './processors/health-check.processor.ts';
import { registerSchedules } from './schedules.ts';

const SERVICE = 'maintenance';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: 3 });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX);
  const vectors = createVectorStore(env);
  const checks = [
    { name: 'redis', check: () => redis.ping() },
    { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
    { name: 'vector-store', check: () => vectors.health() },
  ];
  const gauge = new Gauge({
    name: 'kbflow_dependency_up',
    help: 'Result of the last scheduled health check per dependency (1 up, 0 down).',
    labelNames: ['dependency'],
    registers: [metrics.registry],
  });

  const worker = createWorker({
    queue: QueueName.maintenance,
    handlers: {
      'health-check': (_data, ctx) => healthCheck(ctx, { checks, producer, gauge }),
      'compact-vector-store': (data, ctx) => compactVectorStore(data, ctx, { vectors }),
    },
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
  });
  const schedules = await registerSchedules(producer, {
    healthCheckEveryMs: env.KBFLOW_HEALTH_CHECK_EVERY_MS,
    compactEveryMs: env.KBFLOW_COMPACT_EVERY_MS,
  });

  const health = await startHealthServer({ port: env.KBFLOW_METRICS_PORT, host: env.KBFLOW_METRICS_HOST, registry: metrics.registry, checks });

  const shutdown = new ShutdownManager(log, env.KBFLOW_SHUTDOWN_TIMEOUT_MS);
  shutdown.register('health server', () => health.close());
  shutdown.register('worker', () => worker.close());
  shutdown.register('queues', () => producer.close());
  shutdown.register('vector store', () => vectors.close());
  shutdown.register('redis', () => redis.quit());
  shutdown.register('postgres', () => db.$disconnect());
  shutdown.listen();

  log.info({ schedules, metricsPort: health.port }, 'maintenance started');
} catch (error) {
  startupFailed(SERVICE, error);
}
