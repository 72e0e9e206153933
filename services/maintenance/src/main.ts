// Composition root of the maintenance service: owns the schedules and
// consumes `maintenance`.
import { CaseRepository, RecordRepository, ScheduleRunRepository, SearchLogRepository, SourceRepository, TaskRepository, WebhookRepository } from '@kbflow/db';
import { startupFailed } from '@kbflow/observability';
import { createWorkerRuntime, DeadLetters, QueueName } from '@kbflow/queues';
import { createVectorStore, instrumentVectorStore } from '@kbflow/vector-store';
import { QueueEvents } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { createDriftMetrics } from './drift-metrics.ts';
import { loadCaseCategoryRules } from './case-category-config.ts';
import { loadConfig, SERVICE } from './env.ts';
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
import { registerSchedules } from './schedules.ts';
import { WebhookSender } from './webhooks/webhook-sender.ts';

try {
  const config = loadConfig();
  const runtime = await createWorkerRuntime(config.runtime);
  const { log, registry, redis, db, producer, prefix } = runtime;
  const vectors = instrumentVectorStore(createVectorStore(config.vectorStore), registry);
  runtime.addCheck({ name: 'vector-store', check: () => vectors.health() });
  const gauge = new Gauge({
    name: 'kbflow_dependency_up',
    help: 'Result of the last scheduled health check per dependency (1 up, 0 down).',
    labelNames: ['dependency'],
    registers: [registry],
  });
  const deadLetterMetrics = {
    count: new Gauge({
      name: 'kbflow_dead_letters_kept',
      help: 'Dead letters kept, by origin queue, as of the last dead-letter sweep.',
      labelNames: ['queue'],
      registers: [registry],
    }),
    oldestAge: new Gauge({
      name: 'kbflow_dead_letter_oldest_age_seconds',
      help: 'Age of the oldest dead letter kept, as of the last dead-letter sweep (0 when none).',
      registers: [registry],
    }),
    removed: new Counter({
      name: 'kbflow_dead_letters_removed_total',
      help: 'Dead letters deleted by the sweep, by reason (age: past KBFLOW_DEAD_LETTER_RETENTION_DAYS; count: beyond KBFLOW_DEAD_LETTER_MAX_COUNT).',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
  registerSourceMetrics(registry, db);
  const drift = createDriftMetrics({ registry, redis, prefix, log });
  const caseSyncDeps = {
    cases: new CaseRepository(db),
    producer,
    rules: loadCaseCategoryRules(config.caseCategoriesFile),
    batchSize: config.caseSyncBatchSize,
  };
  const sweepDeps = { chunks: new ChunkIndexRepository(db), vectors, producer, drift, graceMs: config.sweepGraceMs };
  // The knowledge schedule waits on the aggregator's job: QueueEvents blocks its connection, so it gets its own.
  const aggregateEventsConnection = redis.duplicate();
  const aggregateEvents = new QueueEvents(QueueName.aggregate, { connection: aggregateEventsConnection, prefix });
  const knowledgeDeps = { producer, aggregateEvents, timeoutMs: config.knowledgeTimeoutMs };
  const tasks = new TaskRepository(db);
  const sourceDeps = { sources: new SourceRepository(db, tasks), tasks, producer };

  runtime.worker({
    queue: QueueName.maintenance,
    // Every maintenance job, scheduled or not, leaves a schedule_runs row.
    handlers: recordRuns(new ScheduleRunRepository(db), {
      'health-check': (_data, ctx) =>
        healthCheck(ctx, {
          checks: runtime.checks,
          producer,
          gauge,
          searchLogRetention: { searchLogs: new SearchLogRepository(db), days: config.retentionDays.searchLogs },
          scheduleRunRetention: { scheduleRuns: new ScheduleRunRepository(db), days: config.retentionDays.scheduleRuns },
          recordSyncRetention: { records: new RecordRepository(db) },
          deadLetterSweep: { deadLetters: new DeadLetters(producer, redis), retention: config.deadLetterRetention, metrics: deadLetterMetrics },
          reapTasks: () => reapTasks({ tasks, producer, redis, graceMs: config.taskReaperGraceMs, webhooks: new WebhookRepository(db, tasks) }, ctx.log),
        }),
      'compact-vector-store': (data, ctx) => compactVectorStore(data, ctx, { vectors }),
      'vectorization-sweep': (data, ctx) => vectorizationSweep(data, ctx, sweepDeps),
      'case-sync': (data, ctx) => caseSync(data, ctx, caseSyncDeps),
      'generate-knowledge': (data, ctx) => generateKnowledgeRun(data, ctx, knowledgeDeps),
      'run-source': (data, ctx) => runSource(data, ctx, sourceDeps),
      'purge-source': (data, ctx) => purgeSource(data, ctx, sourceDeps),
    }),
    concurrency: config.concurrency,
  });
  // Webhook deliveries have a queue of their own, so that they wait on
  // receivers without holding up a sweep, and a sweep does not hold them.
  const webhookSender = new WebhookSender({ allowPrivateNetworks: config.webhooks.allowPrivateNetworks, timeoutMs: config.webhooks.timeoutMs });
  const webhookDeps = { webhooks: new WebhookRepository(db, tasks), send: webhookSender.send.bind(webhookSender) };
  runtime.worker({
    queue: QueueName.webhook,
    handlers: { 'deliver-webhook': (data, ctx) => deliverWebhook(data, ctx, webhookDeps) },
    concurrency: config.webhooks.concurrency,
  });
  const schedules = await registerSchedules(producer, config.schedules);
  const sourceSchedules = await registerSourceSchedules(sourceDeps);
  runtime.onClose('aggregate events', () => aggregateEvents.close().then(() => aggregateEventsConnection.quit()));
  runtime.onClose('webhook sender', () => webhookSender.close());
  runtime.onClose('vector store', () => vectors.close());

  const { port } = await runtime.start();
  log.info({ schedules, sourceSchedules, metricsPort: port }, 'maintenance started');
} catch (error) {
  startupFailed(SERVICE, error);
}
