// Composition root of the scraper: env, runtime, fetchers, worker.
// Consumes `scrape`; produces `scrape`, `embed`, `aggregate`.
import { DocumentRepository, TaskRepository, WebhookRepository } from '@kbflow/db';
import { startupFailed } from '@kbflow/observability';
import { createWorkerRuntime, QueueName } from '@kbflow/queues';
import { DependencyBreaker } from '@kbflow/resilience';
import { loadConfig, SERVICE } from './env.ts';
import { BrowserFetcher } from './fetchers/browser-fetcher.ts';
import { EngineRouter } from './fetchers/engine-router.ts';
import { HttpFetcher } from './fetchers/http-fetcher.ts';
import { HostLimiter } from './politeness/host-limiter.ts';
import { RobotsCache } from './politeness/robots-cache.ts';
import { discoverSitemapUrls } from './politeness/sitemap-discovery.ts';
import { scrapePage } from './processors/scrape-page.processor.ts';

const HOST_LEASE_MS = 15_000;

try {
  const config = loadConfig();
  const runtime = await createWorkerRuntime(config.runtime);
  const { log, registry, redis, db, producer, prefix } = runtime;
  const browserBreaker = new DependencyBreaker({ name: 'browser', ...config.browser.breaker, registry, log, service: SERVICE, report: { redis, prefix } });
  const browser = new BrowserFetcher({
    ...config.fetch,
    executablePath: config.browser.executablePath,
    sandbox: config.browser.sandbox,
    log,
    registry,
  });
  const http = new HttpFetcher({ ...config.fetch, maxRedirects: config.maxRedirects });
  const fetchResource = http.fetchResource.bind(http);
  const engines = new EngineRouter(http, { fetch: (url) => browserBreaker.run(() => browser.fetch(url)), close: () => browser.close() }, log, registry, {
    maxDocumentPages: config.maxDocumentPages,
  });
  const tasks = new TaskRepository(db);
  const deps = {
    tasks,
    webhooks: new WebhookRepository(db, tasks),
    documents: new DocumentRepository(db),
    producer,
    fetchPage: engines.fetch.bind(engines),
    politeness: {
      robots: new RobotsCache({ redis, prefix, fetchResource, userAgent: config.fetch.userAgent, ttlMs: config.robotsCacheMs, log }),
      // Renewed while its fetch runs: a killed scraper's slot frees itself within 15 s.
      limiter: new HostLimiter(redis, prefix, { leaseMs: HOST_LEASE_MS }),
      // The tenant's share of the scrapers is taken with the host's slot, not around the job (see the processor).
      tenants: runtime.tenantSlots(),
      defaults: config.hostDefaults,
      sitemapUrls: (origin: string, starts: string[], maxUrls: number) =>
        discoverSitemapUrls(origin, [...starts, `${origin}/sitemap.xml`], fetchResource, { ...config.sitemap, maxUrls }, log),
    },
  };

  runtime.worker({
    queue: QueueName.scrape,
    handlers: { 'scrape-page': (data, ctx) => scrapePage(data, ctx, deps) },
    concurrency: config.concurrency,
    tenantLimited: false,
  });
  runtime.onClose('browser', () => Promise.all([engines.close(), browserBreaker.close()]));

  const { port } = await runtime.start();
  log.info({ concurrency: config.concurrency, metricsPort: port, allowPrivateNetworks: config.fetch.allowPrivateNetworks }, 'scraper started');
} catch (error) {
  startupFailed(SERVICE, error);
}
