// Composition root of the scraper: env, logger, clients, worker, health
// server, shutdown. Consumes `scrape`; produces `scrape`, `embed`, `aggregate`.
import { createDb, DocumentRepository, TaskRepository } from '@kbflow/db';
import { createLogger, createMetrics, ShutdownManager, startHealthServer, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName } from '@kbflow/queues';
import { loadEnv } from './env.ts';
import { BrowserFetcher } from './fetchers/browser-fetcher.ts';
import { EngineRouter } from './fetchers/engine-router.ts';
import { HttpFetcher } from './fetchers/http-fetcher.ts';
import { scrapePage } from './processors/scrape-page.processor.ts';

const SERVICE = 'scraper';

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 2, 20) });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX);
  const fetchOpts = {
    allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS,
    maxBytes: env.KBFLOW_MAX_PAGE_BYTES,
    timeoutMs: env.KBFLOW_FETCH_TIMEOUT_MS,
    userAgent: env.KBFLOW_USER_AGENT,
  };
  const engines = new EngineRouter(
    new HttpFetcher({ ...fetchOpts, maxRedirects: env.KBFLOW_MAX_REDIRECTS }),
    new BrowserFetcher({ ...fetchOpts, executablePath: env.KBFLOW_CHROMIUM_PATH }),
    log,
  );
  const deps = {
    tasks: new TaskRepository(db),
    documents: new DocumentRepository(db),
    producer,
    fetchPage: engines.fetch.bind(engines),
  };

  const worker = createWorker({
    queue: QueueName.scrape,
    handlers: { 'scrape-page': (data, ctx) => scrapePage(data, ctx, deps) },
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
    ],
  });

  const shutdown = new ShutdownManager(log, env.KBFLOW_SHUTDOWN_TIMEOUT_MS);
  shutdown.register('health server', () => health.close());
  shutdown.register('worker', () => worker.close());
  shutdown.register('browser', () => engines.close());
  shutdown.register('queues', () => producer.close());
  shutdown.register('redis', () => redis.quit());
  shutdown.register('postgres', () => db.$disconnect());
  shutdown.listen();

  log.info({ concurrency: env.KBFLOW_WORKER_CONCURRENCY, metricsPort: health.port, allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS }, 'scraper started');
} catch (error) {
  startupFailed(SERVICE, error);
}
