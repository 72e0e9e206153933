// Composition root of the scraper: env, logger, clients, worker, runtime.
// Consumes `scrape`; produces `scrape`, `embed`, `aggregate`.
import { createDb, DocumentRepository, TaskRepository, TenantLimitsCache, TenantRepository, WebhookRepository } from '@kbflow/db';
import { createLogger, createMetrics, startTracing, startupFailed } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, QueueName, runWorkerService, TenantSlots } from '@kbflow/queues';
import { DependencyBreaker } from '@kbflow/resilience';
import { loadEnv } from './env.ts';
import { BrowserFetcher } from './fetchers/browser-fetcher.ts';
import { EngineRouter } from './fetchers/engine-router.ts';
import { HttpFetcher } from './fetchers/http-fetcher.ts';
import { HostLimiter } from './politeness/host-limiter.ts';
import { RobotsCache } from './politeness/robots-cache.ts';
import { discoverSitemapUrls } from './politeness/sitemap-discovery.ts';
import { scrapePage } from './processors/scrape-page.processor.ts';

const SERVICE = 'scraper';
const HOST_LEASE_MS = 15_000;

try {
  const env = loadEnv();
  const log = createLogger(SERVICE, env.LOG_LEVEL);
  // Before any client is built: database clients, workers and the app decide
  // at construction whether to trace (docs/tracing.md). Off, it loads nothing.
  const tracing = await startTracing(SERVICE, env, log);
  const metrics = createMetrics(SERVICE);
  const redis = createRedis(env.REDIS_URL);
  const db = createDb(env.DATABASE_URL, { poolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 2, 20) });
  const producer = new JobProducer(redis, env.KBFLOW_QUEUE_PREFIX, { attempts: env.KBFLOW_JOB_ATTEMPTS });
  const fetchOpts = {
    allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS,
    maxBytes: env.KBFLOW_MAX_PAGE_BYTES,
    timeoutMs: env.KBFLOW_FETCH_TIMEOUT_MS,
    userAgent: env.KBFLOW_USER_AGENT,
  };
  const browserBreaker = new DependencyBreaker({
    name: 'browser',
    failureThreshold: env.KBFLOW_BREAKER_BROWSER_FAILURES,
    resetTimeoutMs: env.KBFLOW_BREAKER_BROWSER_RESET_MS,
    registry: metrics.registry,
    log,
    service: SERVICE,
    report: { redis, prefix: env.KBFLOW_QUEUE_PREFIX },
  });
  if (env.KBFLOW_BROWSER_SANDBOX === 'on' && process.getuid?.() === 0) {
    throw new Error(
      'KBFLOW_BROWSER_SANDBOX=on, but the scraper runs as root and Chromium refuses its sandbox as root: run it as a non-root user or set KBFLOW_BROWSER_SANDBOX=auto',
    );
  }
  const browser = new BrowserFetcher({
    ...fetchOpts,
    executablePath: env.KBFLOW_CHROMIUM_PATH,
    sandbox: env.KBFLOW_BROWSER_SANDBOX,
    log,
    registry: metrics.registry,
  });
  const http = new HttpFetcher({ ...fetchOpts, maxRedirects: env.KBFLOW_MAX_REDIRECTS });
  const fetchResource = http.fetchResource.bind(http);
  const engines = new EngineRouter(
    http,
    { fetch: (url) => browserBreaker.run(() => browser.fetch(url)), close: () => browser.close() },
    log,
    metrics.registry,
    { maxDocumentPages: env.KBFLOW_MAX_DOCUMENT_PAGES },
  );
  const tasks = new TaskRepository(db);
  const deps = {
    tasks,
    webhooks: new WebhookRepository(db, tasks),
    documents: new DocumentRepository(db),
    producer,
    fetchPage: engines.fetch.bind(engines),
    politeness: {
      robots: new RobotsCache({
        redis,
        prefix: env.KBFLOW_QUEUE_PREFIX,
        fetchResource,
        userAgent: env.KBFLOW_USER_AGENT,
        ttlMs: env.KBFLOW_ROBOTS_CACHE_MS,
        log,
      }),
      // Renewed while its fetch runs: a killed scraper's slot frees itself within 15 s.
      limiter: new HostLimiter(redis, env.KBFLOW_QUEUE_PREFIX, { leaseMs: HOST_LEASE_MS }),
      defaults: { maxConcurrency: env.KBFLOW_HOST_MAX_CONCURRENCY, minDelayMs: env.KBFLOW_HOST_MIN_DELAY_MS, maxBackoffMs: env.KBFLOW_HOST_MAX_BACKOFF_MS },
      sitemapUrls: (origin: string, starts: string[], maxUrls: number) =>
        discoverSitemapUrls(
          origin,
          [...starts, `${origin}/sitemap.xml`],
          fetchResource,
          { maxBytes: env.KBFLOW_SITEMAP_MAX_BYTES, maxFiles: env.KBFLOW_SITEMAP_MAX_FILES, maxUrls },
          log,
        ),
    },
  };

  // Each tenant's share of these workers (issue 12 item 2): its jobs over it wait, delayed, attempts intact.
  const tenantLimits = new TenantLimitsCache(new TenantRepository(db));
  const tenantSlots = new TenantSlots({
    redis,
    prefix: env.KBFLOW_QUEUE_PREFIX,
    limitOf: async (id) => (await tenantLimits.limitsOf(id)).maxConcurrentProcessing,
  });
  const worker = createWorker({
    queue: QueueName.scrape,
    handlers: { 'scrape-page': (data, ctx) => scrapePage(data, ctx, deps) },
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    lockDurationMs: env.KBFLOW_LOCK_DURATION_MS,
    stalledIntervalMs: env.KBFLOW_STALLED_INTERVAL_MS,
    tenantSlots,
  });

  const { port } = await runWorkerService({
    service: SERVICE,
    log,
    registry: metrics.registry,
    redis,
    producer,
    workers: [worker],
    checks: [
      { name: 'redis', check: () => redis.ping() },
      { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
    ],
    metricsPort: env.KBFLOW_METRICS_PORT,
    metricsHost: env.KBFLOW_METRICS_HOST,
    shutdownTimeoutMs: env.KBFLOW_SHUTDOWN_TIMEOUT_MS,
    close: [
      { name: 'browser', fn: () => Promise.all([engines.close(), browserBreaker.close()]) },
      { name: 'postgres', fn: () => db.$disconnect() },
      // Last of the service's own steps: flushes the spans of everything above.
      ...(tracing ? [{ name: 'tracing', fn: () => tracing.shutdown() }] : []),
    ],
  });
  log.info({ concurrency: env.KBFLOW_WORKER_CONCURRENCY, metricsPort: port, allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS }, 'scraper started');
} catch (error) {
  startupFailed(SERVICE, error);
}
