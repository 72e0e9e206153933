// Composition root of the maintenance service: owns the schedules and
// consumes `maintenance`.
import {
  CaseRepository,
  createDb,
  RecordRepository,
  ScheduleRunRepository,
  SearchLogRepository,
  SourceRepository,
  TaskRepository,
  WebhookRepository,
} from '@kbflow/db';
import { createLogger, createMetrics, startTracing, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, DeadLetters, JobProducer, QueueName, runWorkerService } from '@kbflow/queues';
import { createVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
import { QueueEvents } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { createDriftMetrics } from './drift-metrics.ts';
import { loadCaseCategoryRules } from './case-category-config.ts';
import { loadEnv } from './env.ts';
import { registerSourceMetrics } from './source-metrics.ts';
import { caseSync } from './processors/case-sync.processor.ts';
import { compactVectorStore } from './processors/compact-vector-store.processor.ts';
import { deliverWebhook } from './processors/deliver-webhook.processor.ts';
import { generateKnowledgeRun } from './processors/generate-knowledge.processor.ts';
import { healthCheck } from './processors/health-check.processor.ts';
import { purgeSource } from './processors/purge-source.processor.ts';
import { registerSourceSchedules, runSource } from './processors/run-source.processor.ts';
import { vectorizationSweep } from './processors/vectorization-sweep.processor.ts';
import { ChunkIndexRepository } from './repositories/chunk-index.repository.ts';
import { recordRuns } from './schedule-runs.ts';
import { reapTasks } from './task-reaper.ts';
import { registerSchedules, scheduleConfig } from './schedules.ts';
import { WebhookSender } from './webhooks/webhook-sender.ts';

const SERVICE = 'maintenance';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  // Before any client is built: database clients, workers and the app decide
  // at construction whether to trace (docs/tracing.md). Off, it loads nothing.
  const tracing = await startTracing(SERVICE, env, log);
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
  const deadLetterMetrics = {
    count: new Gauge({
      name: 'kbflow_dead_letters_kept',
      help: 'Dead letters kept, by origin queue, as of the last dead-letter sweep.',
      labelNames: ['queue'],
      registers: [metrics.registry],
    }),
    oldestAge: new Gauge({
      name: 'kbflow_dead_letter_oldest_age_seconds',
      help: 'Age of the oldest dead letter kept, as of the last dead-letter sweep (0 when none).',
      registers: [metrics.registry],
    }),
    removed: new Counter({
      name: 'kbflow_dead_letters_removed_total',
      help: 'Dead letters deleted by the sweep, by reason (age: past KBFLOW_DEAD_LETTER_RETENTION_DAYS; count: beyond KBFLOW_DEAD_LETTER_MAX_COUNT).',
      labelNames: ['reason'],
      registers: [metrics.registry],
    }),
  };
  registerSourceMetrics(metrics.registry, db);
  const drift = createDriftMetrics({ registry: metrics.registry, redis, prefix: env.KBFLOW_QUEUE_PREFIX, log });
  const caseSyncDeps = {
    cases: new CaseRepository(db),
    producer,
    rules: loadCaseCategoryRules(env.KBFLOW_CASE_CATEGORIES_FILE),
    batchSize: env.KBFLOW_CASE_SYNC_BATCH_SIZE,
  };
  const sweepDeps = { chunks: new ChunkIndexRepository(db), vectors, producer, drift, graceMs: env.KBFLOW_SWEEP_GRACE_MS };
  // The knowledge schedule waits on the aggregator's job: QueueEvents blocks its connection, so it gets its own.
  const aggregateEventsConnection = redis.duplicate();
  const aggregateEvents = new QueueEvents(QueueName.aggregate, { connection: aggregateEventsConnection, prefix: env.KBFLOW_QUEUE_PREFIX });
  const knowledgeDeps = { producer, aggregateEvents, timeoutMs: env.KBFLOW_KNOWLEDGE_TIMEOUT_MS };
  const tasks = new TaskRepository(db);
  const sourceDeps = { sources: new SourceRepository(db, tasks), tasks, producer };

  const worker = createWorker({
    queue: QueueName.maintenance,
    // Every maintenance job, scheduled or not, leaves a schedule_runs row.
    handlers: recordRuns(new ScheduleRunRepository(db), {
      'health-check': (_data, ctx) =>
        healthCheck(ctx, {
          checks,
          producer,
          gauge,
          searchLogRetention: { searchLogs: new SearchLogRepository(db), days: env.KBFLOW_SEARCH_LOG_RETENTION_DAYS },
          scheduleRunRetention: { scheduleRuns: new ScheduleRunRepository(db), days: env.KBFLOW_SCHEDULE_RUN_RETENTION_DAYS },
          recordSyncRetention: { records: new RecordRepository(db) },
          deadLetterSweep: {
            deadLetters: new DeadLetters(producer, redis),
            retention: { maxAgeMs: env.KBFLOW_DEAD_LETTER_RETENTION_DAYS * 24 * 3600 * 1000, maxCount: env.KBFLOW_DEAD_LETTER_MAX_COUNT },
            metrics: deadLetterMetrics,
          },
          reapTasks: () => reapTasks({ tasks, producer, redis, graceMs: env.KBFLOW_TASK_REAPER_GRACE_MS, webhooks: new WebhookRepository(db, tasks) }, ctx.log),
        }),
      'compact-vector-store': (data, ctx) => compactVectorStore(data, ctx, { vectors }),
      'vectorization-sweep': (data, ctx) => vectorizationSweep(data, ctx, sweepDeps),
      'case-sync': (data, ctx) => caseSync(data, ctx, caseSyncDeps),
      'generate-knowledge': (data, ctx) => generateKnowledgeRun(data, ctx, knowledgeDeps),
      'run-source': (data, ctx) => runSource(data, ctx, sourceDeps),
      'purge-source': (data, ctx) => purgeSource(data, ctx, sourceDeps),
    }),
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
  });
  // Webhook deliveries have a queue of their own, so that they wait on
  // receivers without holding up a sweep, and a sweep does not hold them.
  const webhookSender = new WebhookSender({ allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS, timeoutMs: env.KBFLOW_WEBHOOK_TIMEOUT_MS });
  const webhookDeps = { webhooks: new WebhookRepository(db, tasks), send: webhookSender.send.bind(webhookSender) };
  const webhookWorker = createWorker({
    queue: QueueName.webhook,
    handlers: { 'deliver-webhook': (data, ctx) => deliverWebhook(data, ctx, webhookDeps) },
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: env.KBFLOW_WEBHOOK_CONCURRENCY,
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
  });
  const schedules = await registerSchedules(producer, scheduleConfig(env));
  const sourceSchedules = await registerSourceSchedules(sourceDeps);

  const { port } = await runWorkerService({
    service: SERVICE,
    log,
    registry: metrics.registry,
    redis,
    producer,
    workers: [worker, webhookWorker],
    checks,
    metricsPort: env.KBFLOW_METRICS_PORT,
    metricsHost: env.KBFLOW_METRICS_HOST,
    shutdownTimeoutMs: env.KBFLOW_SHUTDOWN_TIMEOUT_MS,
    close: [
      { name: 'aggregate events', fn: () => aggregateEvents.close().then(() => aggregateEventsConnection.quit()) },
      { name: 'webhook sender', fn: () => webhookSender.close() },
      { name: 'vector store', fn: () => vectors.close() },
      { name: 'postgres', fn: () => db.$disconnect() },
      // Last of the service's own steps: flushes the spans of everything above.
      ...(tracing ? [{ name: 'tracing', fn: () => tracing.shutdown() }] : []),
    ],
  });

  log.info({ schedules, sourceSchedules, metricsPort: port }, 'maintenance started');
} catch (error) {
  startupFailed(SERVICE, error);
}
