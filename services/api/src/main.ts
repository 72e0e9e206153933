// Composition root of the api: env, logger, clients, HTTP server, shutdown.
import {
  CaseRepository,
  createDb,
  DocumentRepository,
  IdempotencyRepository,
  KnowledgeRepository,
  RecordRepository,
  ScheduleRunRepository,
  SearchLogRepository,
  SourceRepository,
  TaskRepository,
  TenantRepository,
  TenantWorkRepository,
  WebhookRepository,
} from '@kbflow/db';
import { createLogger, createMetrics, ShutdownManager, startHealthServer, startTracing, startupFailed } from '@kbflow/observability';
import { createRedis, JobProducer, QueueName, startHeartbeat } from '@kbflow/queues';
import { createVectorStore } from '@kbflow/vector-store';
import { QueueEvents } from 'bullmq';
import { createApp } from './app.ts';
import { bootstrapEnvKeys } from './bootstrap-keys.ts';
import { loadEnv } from './env.ts';
import { KeyUseRecorder } from './http/auth.ts';
import { TenantPurger } from './tenant-purger.ts';
import { answerClientErrorsAsJson } from './http/client-errors.ts';
import { SearchLogWriter } from './search-log-writer.ts';

const SERVICE = 'api';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  // Before any client is built: database clients, workers and the app decide
  // at construction whether to trace (docs/tracing.md). Off, it loads nothing.
  const tracing = await startTracing(SERVICE, env, log);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: 10 });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX, { attempts: env.KBFLOW_JOB_ATTEMPTS });
  const vectors = createVectorStore(env);
  const tenants = new TenantRepository(db);
  // QueueEvents blocks on XREAD, so it gets a connection of its own. Only the
  // query queue's events are followed; /v1/embed polls its job (see query.routes.ts).
  const eventConnection = redis.duplicate();
  const events = { query: new QueueEvents(QueueName.query, { connection: eventConnection, prefix: env.KBFLOW_QUEUE_PREFIX }) };

  await bootstrapEnvKeys(env, tenants, log);
  const purger = new TenantPurger({ tenants, producer, vectors, redis, log });
  // Purges a stopped process left running are finished here (every step is idempotent).
  await purger.resume();
  const keyUse = new KeyUseRecorder(tenants, log);

  const searchLogs = new SearchLogRepository(db);
  const searchLogWriter = new SearchLogWriter(searchLogs, { log, registry: metrics.registry });

  const tasks = new TaskRepository(db);
  const checks = [
    { name: 'redis', check: () => redis.ping() },
    { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
    // Reported, not required: with the vector store down the API still
    // takes submissions, and queries fall back to keyword search.
    { name: 'vector-store', check: () => vectors.health(), required: false },
  ];
  const app = createApp({
    log,
    registry: metrics.registry,
    tenants,
    tasks,
    tenantWork: new TenantWorkRepository(db),
    sources: { repository: new SourceRepository(db, tasks), minIntervalMs: env.KBFLOW_SOURCE_MIN_INTERVAL_MS },
    webhooks: { repository: new WebhookRepository(db, tasks), allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS },
    producer,
    redis,
    events,
    checks,
    queryTimeoutMs: env.KBFLOW_QUERY_TIMEOUT_MS,
    maxBodyBytes: env.KBFLOW_MAX_BODY_BYTES,
    records: { repository: new RecordRepository(db), maxBytes: env.KBFLOW_RECORDS_MAX_BYTES },
    cases: new CaseRepository(db),
    bullBoardReadOnly: env.KBFLOW_BULL_BOARD_READ_ONLY,
    idempotency: new IdempotencyRepository(db),
    scheduleRuns: new ScheduleRunRepository(db),
    knowledge: new KnowledgeRepository(db),
    documents: { repository: new DocumentRepository(db), maxPages: env.KBFLOW_MAX_DOCUMENT_PAGES },
    admission: { redisMemoryRatio: env.KBFLOW_ADMISSION_REDIS_MEMORY_RATIO, maxBacklog: env.KBFLOW_ADMISSION_MAX_BACKLOG },
    searchLogs: { writer: searchLogWriter, repository: searchLogs },
    tenantAdmin: { purger },
    keyUse,
  });
  const server = app.listen(env.KBFLOW_API_PORT, env.KBFLOW_API_HOST);
  answerClientErrorsAsJson(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  // Prometheus scrapes this listener, never the public port (KBFLOW_METRICS_PORT).
  const metricsServer = await startHealthServer({ port: env.KBFLOW_METRICS_PORT, host: env.KBFLOW_METRICS_HOST, registry: metrics.registry, checks });

  const heartbeat = startHeartbeat(redis, env.KBFLOW_QUEUE_PREFIX, { service: SERVICE, concurrency: {} });

  const shutdown = new ShutdownManager(log, env.KBFLOW_SHUTDOWN_TIMEOUT_MS);
  shutdown.register('http server', () => new Promise<void>((resolve) => server.close(() => resolve())));
  shutdown.register('metrics server', () => metricsServer.close());
  shutdown.register('heartbeat', () => heartbeat.stop());
  shutdown.register('api key use', () => keyUse.close());
  shutdown.register('tenant purges', () => purger.idle());
  shutdown.register('queue events', async () => {
    await events.query.close();
    await eventConnection.quit();
  });
  shutdown.register('queues', () => producer.close());
  shutdown.register('vector store', () => vectors.close());
  shutdown.register('redis', () => redis.quit());
  // After the HTTP server: the last answered requests' rows are written before PostgreSQL closes.
  shutdown.register('search log', () => searchLogWriter.close());
  shutdown.register('postgres', () => db.$disconnect());
  // Last: flushes the spans of everything above.
  if (tracing) shutdown.register('tracing', () => tracing.shutdown());
  shutdown.listen();

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : env.KBFLOW_API_PORT;
  log.info({ port, metricsPort: metricsServer.port, devKey: env.KBFLOW_DEV_API_KEY ? 'KBFLOW_DEV_API_KEY' : undefined }, 'api listening');
  // The built-in local key is printed on purpose (issue 2): it is how one
  // starts. A key the operator chose is never written to a log (issue 14).
  if (env.devKeyIsBuiltIn) log.info(`dev tenant key: ${env.KBFLOW_DEV_API_KEY} (built in; set KBFLOW_DEV_API_KEY to choose one)`);
} catch (error) {
  startupFailed(SERVICE, error);
}
