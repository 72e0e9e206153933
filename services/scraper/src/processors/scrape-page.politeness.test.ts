import { describe, expect, it } from '@jest/globals';
import { AppError } from '@kbflow/errors';
import { JobDeferral } from '@kbflow/queues';
import { scrapePage } from './scrape-page.processor.ts';
import { notModified, PAGE, page, setup, STORED } from './scrape-page.fakes.ts';

describe('scrapePage: politeness', () => {
  const text = '# A\n\nText of the page, long enough for one chunk.';
  const ROBOTS = 'User-agent: kbflow\nDisallow: /private/\nCrawl-delay: 2\n';

  it('fails a page robots.txt disallows without fetching it, naming the reason', async () => {
    let fetched = false;
    const { rec, deps, ctx, data } = setup({ robots: [200, 'User-agent: *\nDisallow: /\n'], fetch: async () => ((fetched = true), page(text)) });
    const result = await scrapePage(data, ctx, deps);
    expect(result).toEqual({ outcome: 'failed', error: `robots_disallowed: ${PAGE} is disallowed by http://docs.local/robots.txt for kbflow` });
    expect(fetched).toBe(false);
    expect(rec.statuses[0]?.[1]).toBe('failed');
  });

  it('fetches anyway when the task does not respect robots.txt', async () => {
    const { deps, ctx, data } = setup({ robots: [200, 'User-agent: *\nDisallow: /\n'], params: { respectRobots: false }, fetch: async () => page(text) });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('stored');
  });

  it('with robots.txt unreachable (5xx), fetches nothing and retries later', async () => {
    let fetched = false;
    const { rec, deps, ctx, data } = setup({ robots: [503, ''], fetch: async () => ((fetched = true), page(text)) });
    await expect(scrapePage(data, ctx, deps)).rejects.toMatchObject({ code: 'robots_unavailable', retryable: true });
    expect(fetched).toBe(false);
    expect(rec.statuses).toEqual([]);
  });

  it("uses Crawl-delay as the floor of the host's delay", async () => {
    const { rec, deps, ctx, data } = setup({
      robots: [200, ROBOTS],
      params: { politeness: { maxConcurrency: 2, minDelayMs: 500 } },
      fetch: async () => page(text),
    });
    await scrapePage(data, ctx, deps);
    expect(rec.acquired).toEqual([{ maxConcurrency: 2, minDelayMs: 2000 }]);
  });

  it('never claims disallowed links, and adds the sitemap pages after the links with their lastmod', async () => {
    const links = ['http://docs.local/b.html', 'http://docs.local/private/x.html'];
    const sitemap = [
      { url: 'http://docs.local/only-in-sitemap.html', lastmod: '2026-11-01' },
      { url: 'http://docs.local/private/y.html' },
      { url: 'http://docs.local/b.html' },
    ];
    const { rec, deps, ctx, data } = setup({ robots: [200, ROBOTS], params: { sitemaps: 'auto' }, sitemap, fetch: async () => page(text, links) });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed).toEqual([['http://docs.local/b.html', 'http://docs.local/only-in-sitemap.html']]);
    expect(rec.bulk.map((b) => [b.url, b.lastmod])).toEqual([
      ['http://docs.local/b.html', undefined],
      ['http://docs.local/only-in-sitemap.html', '2026-11-01'],
    ]);
  });

  it('defers the page, without fetching, while its host is at its limit', async () => {
    let fetched = false;
    const { deps, ctx, data } = setup({ slot: { granted: false, waitMs: 10, reason: 'host-busy' }, fetch: async () => ((fetched = true), page(text)) });
    const error = await scrapePage(data, ctx, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobDeferral);
    expect((error as JobDeferral).reason).toBe('host-busy');
    expect((error as JobDeferral).delayMs).toBeGreaterThanOrEqual(1000);
    expect(fetched).toBe(false);
  });

  it("defers the page, without fetching, while its tenant's share of the scrapers is in use (taken with the host's slot)", async () => {
    let fetched = false;
    const { rec, deps, ctx, data } = setup({ slot: { granted: false, waitMs: 0, reason: 'tenant-limit' }, fetch: async () => ((fetched = true), page(text)) });
    const error = await scrapePage(data, ctx, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobDeferral);
    expect((error as JobDeferral).reason).toBe('tenant-limit');
    expect(fetched).toBe(false);
    expect(rec.statuses).toEqual([]);
  });

  it("a fetched page gives the host's slot back after its fetch and its tenant's share when the job ends; a 304 or a failure gives both back at once", async () => {
    const fetchedPage = setup({ fetch: async () => page(text) });
    expect((await scrapePage(fetchedPage.data, fetchedPage.ctx, fetchedPage.deps)).outcome).toBe('stored');
    expect(fetchedPage.rec.releases).toEqual(['host', 'share']);
    const unchanged = setup({ stored: STORED, fetch: async () => notModified() });
    expect((await scrapePage(unchanged.data, unchanged.ctx, unchanged.deps)).outcome).toBe('skipped');
    expect(unchanged.rec.releases).toEqual(['both']);
    const failing = setup({ fetch: async () => Promise.reject(new AppError('http_status', `${PAGE} answered 500`, { retryable: true })) });
    await expect(scrapePage(failing.data, failing.ctx, failing.deps)).rejects.toMatchObject({ code: 'http_status' });
    expect(failing.rec.releases).toEqual(['both']);
  });

  it('on a 429 with Retry-After, backs the host off and defers the page without failing it', async () => {
    const { rec, deps, ctx, data } = setup({ fetch: async () => Promise.reject(new AppError('http_status', `${PAGE} answered 429`, { retryAfterMs: 3000 })) });
    const error = await scrapePage(data, ctx, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobDeferral);
    expect((error as JobDeferral).delayMs).toBeGreaterThanOrEqual(3000);
    expect(rec.backoffs).toEqual([['docs.local', 3000]]);
    expect(rec.updated).toEqual([expect.objectContaining({ backoffs: 1 })]);
    expect(rec.statuses).toEqual([]);
  });

  it("leaves an open browser breaker's wait to the worker: the host is not backed off", async () => {
    const open = new AppError('breaker_open', 'browser is unavailable (circuit open)', { retryAfterMs: 45_000 });
    const { rec, deps, ctx, data } = setup({ fetch: async () => Promise.reject(open) });
    await expect(scrapePage(data, ctx, deps)).rejects.toBe(open);
    expect(rec.backoffs).toEqual([]);
  });

  it('after too many back-offs, the 429 is an ordinary failed attempt that cannot rate-limit the queue', async () => {
    const { rec, deps, ctx, data } = setup({ fetch: async () => Promise.reject(new AppError('http_status', `${PAGE} answered 429`, { retryAfterMs: 3000 })) });
    const error = await scrapePage({ ...data, backoffs: 20 }, ctx, deps).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'host_backoff_exhausted', retryable: true, retryAfterMs: undefined });
    expect(rec.backoffs).toEqual([]);
  });
});
