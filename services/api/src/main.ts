// Composition root of the api: env, logger, clients, HTTP server, shutdown.
import {
  CaseRepository,
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
import { ShutdownManager, startHealthServer, startupFailed } from '@kbflow/observability';
import { createServiceClients, QueueName, startHeartbeat } from '@kbflow/queues';
import { createVectorStore } from '@kbflow/vector-store';
import { QueueEvents } from 'bullmq';
import { createApp } from './app.ts';
import { bootstrapEnvKeys } from './bootstrap-keys.ts';
import { loadConfig, SERVICE } from './env.ts';
import { KeyUseRecorder } from './http/auth.ts';
import { TenantPurger } from './tenant-purger.ts';
import { answerClientErrorsAsJson } from './http/client-errors.ts';
import { SearchLogWriter } from './search-log-writer.ts';

try {
  const config = loadConfig();
  const { log, tracing, registry, redis, db, producer, prefix } = await createServiceClients(config.clients);
  const vectors = createVectorStore(config.vectorStore);
  const tenants = new TenantRepository(db);
  // QueueEvents blocks on XREAD, so it gets a connection of its own. Only the
  // query queue's events are followed; /v1/embed polls its job (see query.routes.ts).
  const eventConnection = redis.duplicate();
  const events = { query: new QueueEvents(QueueName.query, { connection: eventConnection, prefix }) };

  await bootstrapEnvKeys(config.bootstrapKeys, tenants, log);
  const purger = new TenantPurger({ tenants, producer, vectors, redis, log });
  // Purges a stopped process left running are finished here (every step is idempotent).
  await purger.resume();
  const keyUse = new KeyUseRecorder(tenants, log);

  const searchLogs = new SearchLogRepository(db);
  const searchLogWriter = new SearchLogWriter(searchLogs, { log, registry });

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
    registry,
    tenants,
    tasks,
    tenantWork: new TenantWorkRepository(db),
    sources: { repository: new SourceRepository(db, tasks), minIntervalMs: config.sourceMinIntervalMs },
    webhooks: { repository: new WebhookRepository(db, tasks), allowPrivateNetworks: config.allowPrivateNetworks },
    producer,
    redis,
    events,
    checks,
    queryTimeoutMs: config.queryTimeoutMs,
    maxBodyBytes: config.maxBodyBytes,
    records: { repository: new RecordRepository(db), maxBytes: config.recordsMaxBytes },
    cases: new CaseRepository(db),
    bullBoardReadOnly: config.bullBoardReadOnly,
    idempotency: new IdempotencyRepository(db),
    scheduleRuns: new ScheduleRunRepository(db),
    knowledge: new KnowledgeRepository(db),
    documents: { repository: new DocumentRepository(db), maxPages: config.maxDocumentPages },
    admission: config.admission,
    searchLogs: { writer: searchLogWriter, repository: searchLogs },
    tenantAdmin: { purger },
    keyUse,
  });
  const server = app.listen(config.port, config.host);
  answerClientErrorsAsJson(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });

  // Prometheus scrapes this listener, never the public port.
  const metricsServer = await startHealthServer({ port: config.metricsPort, host: config.metricsHost, registry, checks });

  const heartbeat = startHeartbeat(redis, prefix, { service: SERVICE, concurrency: {} });

  const shutdown = new ShutdownManager(log, config.shutdownTimeoutMs);
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
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port, metricsPort: metricsServer.port, devKey: config.devKey ? 'KBFLOW_DEV_API_KEY' : undefined }, 'api listening');
  // The built-in local key is printed on purpose (issue 2): it is how one
  // starts. A key the operator chose is never written to a log (issue 14).
  if (config.devKeyIsBuiltIn) log.info(`dev tenant key: ${config.devKey} (built in; set KBFLOW_DEV_API_KEY to choose one)`);
} catch (error) {
  startupFailed(SERVICE, error);
}
