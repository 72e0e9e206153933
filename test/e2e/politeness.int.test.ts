import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName, createRedis, JobProducer, type Redis } from '@kbflow/queues';
import { apiClient, artifactDir, startE2eStack, startService, startStaticServer, type E2eStack, type ServiceProcess, type StaticServer } from '@kbflow/testing';
import { jobIdOf } from '../../services/scraper/src/processors/scrape-page.processor.ts';

// Politeness end to end (issue 11 item 5): the services as real processes,
// two scrapers among them, and local sites that log every request with its
// time. Scrape jobs get ONE attempt here: a page that spent an attempt on a
// 429 would fail, so a completed crawl proves the wait cost none.
const KEY = 'polite-dev-key';
const RETRY_AFTER_S = 30; // As issue 11 names it: a host holding kbflow off for half a minute.

const html = (title: string, links: string[] = []) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1>
<p>${title} is a page of a polite test site. It says enough about ${title.toLowerCase()} to make one chunk of text for the embedder.</p>
<ul>${links.map((l) => `<li><a href="${l}">${l}</a></li>`).join('')}</ul></main></body></html>`;

let e2e: E2eStack;
let secondScraper: ServiceProcess;
let redis: Redis;
let producer: JobProducer;
const sites: StaticServer[] = [];
const client = apiClient(() => e2e.stack.apiUrl, KEY);
const api = client.call;

const isPage = (path: string) => path.endsWith('.html');

async function crawl(body: Record<string, unknown>): Promise<string> {
  const res = await api('POST', '/v1/crawl', body);
  expect(res.status).toBe(202);
  return res.json.taskId as string;
}

async function scraperCounts(outcome: string): Promise<number[]> {
  const ports = [e2e.stack.services.get('scraper')!.port, secondScraper.port];
  return Promise.all(
    ports.map(async (port) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('kbflow_jobs_total{') && l.includes('queue="scrape"') && l.includes(`outcome="${outcome}"`))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    }),
  );
}

beforeAll(async () => {
  const logDir = artifactDir('e2e-politeness');
  e2e = await startE2eStack('polite', {
    services: ['api', 'scraper', 'embedder', 'aggregator'],
    logDir,
    env: {
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_JOB_ATTEMPTS: 'scrape=1',
      KBFLOW_USER_AGENT: 'kbflow-test/1.0 (+https://kbflow.example/bot)',
    },
  });
  secondScraper = await startService('scraper', e2e.env, { logDir, instance: 2 });
  redis = createRedis(e2e.env.REDIS_URL!);
  producer = new JobProducer(redis, e2e.prefix);
}, 120_000);

afterAll(async () => {
  await secondScraper?.stop();
  await producer?.close();
  await redis?.quit();
  await e2e?.teardown();
  await Promise.all(sites.map((s) => s.close()));
});

describe('robots.txt and sitemaps', () => {
  let site: StaticServer;

  beforeAll(async () => {
    let sitemapIndex = '';
    let pagesSitemap: Buffer = Buffer.alloc(0);
    site = await startStaticServer(
      '/nonexistent',
      {
        '/index.html': html('Home', ['/a.html', '/b.html', '/private/secret.html']),
        '/a.html': html('Apples', ['/private/other.html', '/index.html']),
        '/b.html': html('Bananas'),
        '/only-in-sitemap.html': html('Hidden cherries'),
        '/private/secret.html': html('Secret'),
        '/private/other.html': html('Other secret'),
        '/private/in-sitemap.html': html('Sitemap secret'),
      },
      {
        respond: (path) => {
          if (path === '/robots.txt') {
            // The catch-all group forbids everything: only the kbflow group lets the crawl in.
            const body = `User-agent: *\nDisallow: /\n\nUser-agent: kbflow-test\nDisallow: /private/\nCrawl-delay: 1\n\nSitemap: ${site.url}/sitemap-index.xml\n`;
            return { headers: { 'content-type': 'text/plain' }, body };
          }
          if (path === '/sitemap-index.xml') return { headers: { 'content-type': 'application/xml' }, body: sitemapIndex };
          if (path === '/pages.xml.gz') return { headers: { 'content-type': 'application/gzip' }, body: pagesSitemap };
          return undefined;
        },
      },
    );
    sites.push(site);
    sitemapIndex = `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>${site.url}/pages.xml.gz</loc></sitemap></sitemapindex>`;
    pagesSitemap = gzipSync(
      `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>${site.url}/only-in-sitemap.html</loc><lastmod>2026-11-30</lastmod></url>
<url><loc>${site.url}/private/in-sitemap.html</loc></url>
<url><loc>http://elsewhere.invalid/page.html</loc></url>
</urlset>`,
    );
  });

  it('crawls what robots.txt allows and the sitemap lists, never a disallowed path, Crawl-delay apart', async () => {
    const taskId = await crawl({ url: `${site.url}/index.html`, maxPages: 20, maxDepth: 2 });
    const task = await client.waitForTask(taskId, 60_000);
    expect(task.state).toBe('completed');
    expect(task.params).toMatchObject({ respectRobots: true, sitemaps: 'auto' });
    expect(task.progress).toMatchObject({ discovered: 4, embedded: 4, failed: 0 });

    const paths = site.log.map((r) => r.path);
    expect(paths.filter((p) => p.startsWith('/private/'))).toEqual([]);
    expect(new Set(paths.filter(isPage))).toEqual(new Set(['/index.html', '/a.html', '/b.html', '/only-in-sitemap.html']));
    // The configured user agent on every request, robots.txt and sitemaps included.
    expect(new Set(site.log.map((r) => r.userAgent))).toEqual(new Set(['kbflow-test/1.0 (+https://kbflow.example/bot)']));

    // Crawl-delay: 1 is a floor between page requests (the politeness property,
    // a lower bound: nothing here bounds how long the crawl may take).
    const times = site.log.filter((r) => isPage(r.path)).map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toHaveLength(3);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);

    // The sitemap's lastmod travels in the page's job.
    const job = await producer.queue(QueueName.scrape).getJob(jobIdOf('scrape', taskId, `${site.url}/only-in-sitemap.html`));
    expect(job?.data).toMatchObject({ lastmod: '2026-11-30', depth: 1 });
  }, 90_000);

  it('fails a crawl whose start URL robots.txt disallows, with the reason, without requesting it', async () => {
    const before = site.log.length;
    const taskId = await crawl({ url: `${site.url}/private/secret.html`, maxPages: 5, maxDepth: 1 });
    const task = await client.waitForTask(taskId, 30_000);
    expect(task.state).toBe('failed');
    expect(task.error).toMatch(/^robots_disallowed: .*\/private\/secret\.html is disallowed by .*\/robots\.txt/);
    // robots.txt itself was cached by the first crawl: nothing at all was asked of the site.
    expect(site.log.slice(before).map((r) => r.path)).toEqual([]);
  }, 60_000);
});

describe('per-host limits shared by two scraper processes', () => {
  it('with maxConcurrency 2, the site never sees more than 2 requests at once', async () => {
    const pages: Record<string, string> = {
      '/index.html': html(
        'Hub',
        Array.from({ length: 11 }, (_, i) => `/p${i}.html`),
      ),
    };
    for (let i = 0; i < 11; i++) pages[`/p${i}.html`] = html(`Page number ${i}`);
    // Slow answers make requests overlap whenever the limit lets them.
    const site = await startStaticServer('/nonexistent', pages, { delayMs: 300 });
    sites.push(site);
    const [completedBefore, deferredBefore] = await Promise.all([scraperCounts('completed'), scraperCounts('deferred')]);
    const taskId = await crawl({ url: `${site.url}/index.html`, maxPages: 20, maxDepth: 1, politeness: { maxConcurrency: 2 } });
    const task = await client.waitForTask(taskId, 60_000);
    expect(task.state).toBe('completed');
    expect(task.progress).toMatchObject({ discovered: 12, embedded: 12, failed: 0 });
    expect(site.maxInFlight()).toBeLessThanOrEqual(2);
    expect(site.log.filter((r) => isPage(r.path))).toHaveLength(12);
    // Both processes took scrape jobs, and pages waited for a slot (deferred, not failed).
    const completed = await scraperCounts('completed');
    expect(completed.every((n, i) => n > completedBefore[i]!)).toBe(true);
    const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);
    expect(sum(await scraperCounts('deferred'))).toBeGreaterThan(sum(deferredBefore));
  }, 90_000);
});

describe('a host answering 429 with Retry-After', () => {
  it('waits without spending an attempt while another host crawls meanwhile', async () => {
    let throttledAt = 0;
    const slow = await startStaticServer(
      '/nonexistent',
      { '/index.html': html('Throttled home', ['/t1.html', '/t2.html']), '/t1.html': html('Throttled one'), '/t2.html': html('Throttled two') },
      {
        // The first page request, and any that come within the Retry-After window, get a 429.
        respond: (path) => {
          if (!isPage(path)) return undefined;
          if (throttledAt === 0) throttledAt = Date.now();
          if (Date.now() < throttledAt + RETRY_AFTER_S * 1000) return { status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) }, body: 'slow down' };
          return undefined;
        },
      },
    );
    const quick = await startStaticServer('/nonexistent', {
      '/index.html': html('Quick home', ['/q1.html', '/q2.html']),
      '/q1.html': html('Quick one'),
      '/q2.html': html('Quick two'),
    });
    sites.push(slow, quick);
    const [failedBefore, retriedBefore] = await Promise.all([scraperCounts('failed'), scraperCounts('retried')]);

    const slowTask = await crawl({ url: `${slow.url}/index.html`, maxPages: 10, maxDepth: 1 });
    // The quick crawl starts once the slow host has been told to wait.
    const deadline = Date.now() + 30_000;
    while (throttledAt === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(throttledAt).toBeGreaterThan(0);
    const quickTask = await crawl({ url: `${quick.url}/index.html`, maxPages: 10, maxDepth: 1 });

    const [slowDone, quickDone] = await Promise.all([client.waitForTask(slowTask, 120_000), client.waitForTask(quickTask, 120_000)]);
    expect(quickDone).toMatchObject({ state: 'completed', progress: { discovered: 3, embedded: 3, failed: 0 } });
    expect(slowDone).toMatchObject({ state: 'completed', progress: { discovered: 3, embedded: 3, failed: 0 } });

    const slowPages = slow.log.filter((r) => isPage(r.path));
    // One 429, then nothing until Retry-After had passed: the host was held back.
    expect(slowPages.filter((r) => r.at < throttledAt + RETRY_AFTER_S * 1000)).toHaveLength(1);
    const resumedAt = Math.min(...slowPages.slice(1).map((r) => r.at));
    // The other host's pages flowed meanwhile: its first page was fetched before the throttled host resumed.
    expect(Math.min(...quick.log.filter((r) => isPage(r.path)).map((r) => r.at))).toBeLessThan(resumedAt);
    expect(new Date(quickDone.finishedAt).getTime()).toBeLessThan(new Date(slowDone.finishedAt).getTime());

    // No attempt spent: the seed's job finished on its first counted attempt, and nothing failed or retried.
    const seed = await producer.queue(QueueName.scrape).getJob(`scrape-${slowTask}-0`);
    expect(seed?.attemptsMade).toBe(1);
    expect(seed?.data).toMatchObject({ backoffs: 1 });
    expect(await scraperCounts('failed')).toEqual(failedBefore);
    expect(await scraperCounts('retried')).toEqual(retriedBefore);
    // The scrape queue itself was never rate-limited (the worker logs it when it does).
    const logs = await Promise.all([e2e.stack.services.get('scraper')!.logFile, secondScraper.logFile].map((f) => readFile(f, 'utf8')));
    expect(logs.join('').includes('rate-limiting the queue')).toBe(false);
    expect(logs.join('').includes('host asked to wait; page deferred')).toBe(true);
  }, 180_000);
});
