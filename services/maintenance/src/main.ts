// Composition root of the maintenance service: owns the schedules and
// consumes `maintenance`.
import { createDb } from '@kbflow/db';
import { createLogger, createMetrics, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName, runWorkerService } from '@kbflow/queues';
import { createVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
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
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX, { attempts: env.KBFLOW_JOB_ATTEMPTS });
  const vectors = instrumentVectorStore(createVectorStore(env), metrics.registry);
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
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
  });
  const schedules = await registerSchedules(producer, {
    healthCheckEveryMs: env.KBFLOW_HEALTH_CHECK_EVERY_MS,
    compactEveryMs: env.KBFLOW_COMPACT_EVERY_MS,
  });

  const { port } = await runWorkerService({
    service: SERVICE,
    log,
    registry: metrics.registry,
    redis,
    producer,
    workers: [worker],
    checks,
    metricsPort: env.KBFLOW_METRICS_PORT,
    metricsHost: env.KBFLOW_METRICS_HOST,
    shutdownTimeoutMs: env.KBFLOW_SHUTDOWN_TIMEOUT_MS,
    close: [
      { name: 'vector store', fn: () => vectors.close() },
      { name: 'postgres', fn: () => db.$disconnect() },
    ],
  });

  log.info({ schedules, metricsPort: port }, 'maintenance started');
} catch (error) {
  startupFailed(SERVICE, error);
}
