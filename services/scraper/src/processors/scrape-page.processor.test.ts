import { describe, expect, it } from '@jest/globals';
import type { StoreResult } from '@kbflow/db';
import { AppError, PermanentError } from '@kbflow/errors';
import type { RoutedPage } from '../fetchers/engine-router.ts';
import { HttpStatusError } from '../fetchers/fetched-page.ts';
import { EMBED_BATCH_SIZE, MAX_STORED_LINKS, scrapePage } from './scrape-page.processor.ts';
import { longSection, notModified, PAGE, page, setup, STORED, TASK, TENANT } from './scrape-page.fakes.ts';

describe('scrapePage', () => {
  it('drops the page of a cancelled task at pickup: no fetch, no link, the job completes', async () => {
    let fetched = false;
    for (const state of ['cancelling', 'cancelled']) {
      const { rec, deps, ctx, data } = setup({ state, fetch: async () => ((fetched = true), page('# A')) });
      expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'cancelled' });
      expect(rec.statuses).toEqual([[PAGE, 'cancelled', 'cancelled before it was fetched']]);
      expect(rec.claimed).toEqual([]);
    }
    expect(fetched).toBe(false);
  });

  it('records a first version as new, a replaced one as changed, and an unchanged one as unchanged, with the bytes read', async () => {
    const html = '<html>\u00e9t\u00e9</html>';
    const fetched = (): RoutedPage => ({ ...page('# A\n\ntext'), page: { ...page('').page, html } });
    const cases: [Partial<StoreResult>, string][] = [
      [{ changed: true, replaced: false }, 'new'],
      [{ changed: true, replaced: true }, 'changed'],
      [{ changed: false, replaced: false, pendingChunkIds: [] }, 'unchanged'],
    ];
    for (const [store, change] of cases) {
      const { rec, deps, ctx, data } = setup({ fetch: async () => fetched(), store });
      await scrapePage(data, ctx, deps);
      expect([rec.changes[0]?.[0], rec.bytes[0]]).toEqual([change, Buffer.byteLength(html)]);
    }
  });

  it('follows only links whose path passes includePaths and excludePaths', async () => {
    const links = [
      'http://docs.local/docs/a.html',
      'http://docs.local/docs/private/b.html',
      'http://docs.local/blog/c.html',
      'http://docs.local/docs/d.html?print=1',
    ];
    const { rec, deps, ctx, data } = setup({ fetch: async () => page('# A', links), includePaths: ['^/docs/'], excludePaths: ['/private/', '[?&]print='] });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed).toEqual([['http://docs.local/docs/a.html']]);
  });

  it('stores a changed page and hands its chunks to the embedder as a document flow under the crawl', async () => {
    const { rec, deps, ctx, data } = setup({ fetch: async () => page(`# A\n\n${longSection(60)}`) });
    const result = await scrapePage(data, ctx, deps);
    expect(result.outcome).toBe('stored');
    expect(rec.statuses).toEqual([[PAGE, 'scraped', undefined]]);
    expect(rec.sources).toEqual([new URL(PAGE).host]);
    const flow = rec.flows[0]!;
    expect(flow.name).toBe('complete-document');
    expect(flow.opts.parent).toEqual({ id: `crawl-${TASK}`, queue: '{kbflow}:aggregate' });
    const batches = flow.children!.map((c) => (c.data as { chunkIds: string[] }).chunkIds.length);
    expect(batches.reduce((a, b) => a + b, 0)).toBe((result as { pendingChunks: number }).pendingChunks);
    expect(Math.max(...batches)).toBe(EMBED_BATCH_SIZE);
    expect(flow.children!.every((c) => c.name === 'embed-chunks' && c.opts.ignoreDependencyOnFailure === true)).toBe(true);
  });

  it('skips an unchanged page without embedding anything', async () => {
    const { rec, deps, ctx, data } = setup({
      fetch: async () => page('# A\n\nSame text as before, long enough to be a chunk.'),
      store: { changed: false, pendingChunkIds: [] },
    });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('skipped');
    expect(rec.statuses).toEqual([[PAGE, 'skipped', undefined]]);
    expect(rec.changes).toEqual([['unchanged', undefined]]);
    expect(rec.flows).toEqual([]);
  });

  it('sends the stored validators, and on a 304 follows the stored links without storing or embedding anything', async () => {
    const { rec, deps, ctx, data } = setup({ stored: STORED, fetch: async () => notModified() });
    expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'skipped', reason: 'not-modified', documentId: 'doc-stored', links: 1 });
    expect(rec.conditionals).toEqual([STORED.validators]);
    expect(rec.statuses).toEqual([[PAGE, 'skipped', undefined]]);
    expect(rec.changes).toEqual([['not-modified', 304]]);
    expect(rec.pages).toEqual([]);
    expect(rec.flows).toEqual([]);
    expect(rec.claimed).toEqual([['http://docs.local/b.html']]);
    expect(rec.bulk.map((b) => b.url)).toEqual(['http://docs.local/b.html']);
  });

  it('skips the fetch when the sitemap lastmod is before the last fetch: no request, no host slot, the stored links followed', async () => {
    const fetchedAt = new Date('2026-11-20T12:00:00Z');
    for (const lastmod of ['2026-11-19', '2026-11-20T11:59:00Z', '2026-11-20T12:00:00+00:00']) {
      let fetched = false;
      const { rec, deps, ctx, data } = setup({ stored: { ...STORED, fetchedAt }, fetch: async () => ((fetched = true), notModified()) });
      expect([lastmod, await scrapePage({ ...data, lastmod }, ctx, deps)]).toEqual([
        lastmod,
        { outcome: 'skipped', reason: 'lastmod', documentId: 'doc-stored', links: 1 },
      ]);
      expect([fetched, rec.acquired, rec.changes]).toEqual([false, [], [['not-modified', undefined]]]);
      expect(rec.claimed).toEqual([['http://docs.local/b.html']]);
    }
  });

  it('fetches when the lastmod is after the last fetch, unreadable, or a date-only lastmod of the fetch day (it may mean later that day)', async () => {
    const fetchedAt = new Date('2026-11-20T09:00:00Z');
    for (const lastmod of ['2026-11-20T09:00:01Z', '2026-11-20', '2026-12-01', 'yesterday']) {
      let fetched = false;
      const { deps, ctx, data } = setup({ stored: { ...STORED, fetchedAt }, fetch: async () => ((fetched = true), notModified()) });
      expect((await scrapePage({ ...data, lastmod }, ctx, deps)).outcome).toBe('skipped');
      expect([lastmod, fetched]).toEqual([lastmod, true]);
    }
    // A page not yet complete (no fetchedAt from storedPage) is always fetched.
    let fetched = false;
    const { deps, ctx, data } = setup({ stored: STORED, fetch: async () => ((fetched = true), notModified()) });
    await scrapePage({ ...data, lastmod: '2000-01-01' }, ctx, deps);
    expect(fetched).toBe(true);
  });

  it('a 304 page past maxDepth expands nothing', async () => {
    const { rec, deps, ctx, data } = setup({ stored: STORED, maxDepth: 0, fetch: async () => notModified() });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('skipped');
    expect(rec.claimed).toEqual([]);
  });

  it('fetches a page stored without validators unconditionally', async () => {
    const { rec, deps, ctx, data } = setup({
      stored: { documentId: 'doc-stored', links: [] },
      fetch: async () => page('# A\n\nSome text long enough to be a chunk of its own.'),
    });
    await scrapePage(data, ctx, deps);
    expect(rec.conditionals).toEqual([undefined]);
  });

  it("stores a changed page's validators and its normalized links (unfiltered) for the next crawl", async () => {
    const links = ['http://docs.local/b.html#frag', 'http://docs.local/b.html', 'http://elsewhere.example/c.html'];
    const { rec, deps, ctx, data } = setup({
      store: { replaced: true },
      fetch: async () => page('# A\n\nText of the page, long enough for one chunk.', links),
    });
    await scrapePage(data, ctx, deps);
    expect(rec.pages).toEqual([
      { etag: '"v2"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', links: ['http://docs.local/b.html', 'http://elsewhere.example/c.html'] },
    ]);
    expect(rec.changes).toEqual([['changed', undefined]]);
  });

  it('follows every link of a fetched page but stores only the first MAX_STORED_LINKS for 304s', async () => {
    const links = Array.from({ length: MAX_STORED_LINKS + 10 }, (_, i) => `http://docs.local/p${i}.html`);
    const { rec, deps, ctx, data } = setup({ fetch: async () => page('# A\n\nText of the page, long enough for one chunk.', links) });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed[0]).toHaveLength(MAX_STORED_LINKS + 10);
    expect(rec.pages[0]!.links).toEqual(links.slice(0, MAX_STORED_LINKS));
  });

  it.each([404, 410])('a stored page that now answers %i is removed with its chunks, and its vectors are sent for deletion', async (status) => {
    const { rec, deps, ctx, data } = setup({ stored: STORED, fetch: async () => Promise.reject(new HttpStatusError(PAGE, status)) });
    expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'deleted', reason: 'gone', documentId: 'doc-stored' });
    expect(rec.deletedPages).toEqual([PAGE]);
    expect(rec.statuses.map((s) => s[1])).toEqual(['deleted']);
    expect(rec.changes).toEqual([['deleted', status]]);
    expect(rec.embedJobs).toEqual([
      { name: 'delete-vectors', data: expect.objectContaining({ tenantId: TENANT, documentIds: ['doc-stored'], chunkIds: ['chunk-a', 'chunk-b'] }) },
    ]);
  });

  it('a stored page answering 403 is a failure, not a deletion', async () => {
    const { rec, deps, ctx, data } = setup({ stored: STORED, fetch: async () => Promise.reject(new HttpStatusError(PAGE, 403)) });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('failed');
    expect(rec.deletedPages).toEqual([]);
    expect(rec.changes).toEqual([[undefined, 403]]);
  });

  it("a linked page that redirects off the crawl's origins is removed, its links not followed", async () => {
    const { rec, deps, ctx, data } = setup({
      stored: STORED,
      depth: 1,
      fetch: async () => page('# Elsewhere\n\nText long enough to be a chunk.', ['http://docs.local/b.html'], 'http://elsewhere.example/x.html'),
    });
    expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'deleted', reason: 'out-of-scope', documentId: 'doc-stored' });
    expect(rec.deletedPages).toEqual([PAGE]);
    expect(rec.claimed).toEqual([]);
    expect(rec.pages).toEqual([]);
  });

  it('a seed that redirects to another origin is still stored (the user named it)', async () => {
    const { rec, deps, ctx, data } = setup({
      stored: STORED,
      depth: 0,
      fetch: async () => page('# Elsewhere\n\nText long enough to be a chunk.', [], 'http://www.docs.local/a.html'),
    });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('stored');
    expect(rec.deletedPages).toEqual([]);
  });

  it('claims same-origin links and enqueues them as children of the crawl', async () => {
    const links = ['http://docs.local/b.html', 'http://docs.local/b.html#frag', 'http://elsewhere.example/c.html', 'http://docs.local/logo.png'];
    const { rec, deps, ctx, data } = setup({ fetch: async () => page('# A\n\nText of the page, long enough for one chunk.', links) });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed).toEqual([['http://docs.local/b.html']]);
    expect(rec.bulk).toEqual([{ url: 'http://docs.local/b.html', parent: { id: `crawl-${TASK}`, queue: '{kbflow}:aggregate' } }]);
  });

  it('does not follow links past maxDepth', async () => {
    const { rec, deps, ctx, data } = setup({
      maxDepth: 0,
      fetch: async () => page('# A\n\nText of the page, long enough for one chunk.', ['http://docs.local/b.html']),
    });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed).toEqual([]);
  });

  it('records a permanent failure (a 404) without throwing, so no attempt is wasted', async () => {
    const { rec, deps, ctx, data } = setup({ fetch: async () => Promise.reject(new PermanentError('http_status', `${PAGE} answered 404`)) });
    expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'failed', error: `http_status: ${PAGE} answered 404` });
    expect(rec.statuses).toEqual([[PAGE, 'failed', `http_status: ${PAGE} answered 404`]]);
  });

  it('a 404 of a page never stored is a failure that records its status (not a deletion), without asking for a document to delete', async () => {
    const { rec, deps, ctx, data } = setup({ fetch: async () => Promise.reject(new HttpStatusError(PAGE, 404)) });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('failed');
    expect(rec.changes).toEqual([[undefined, 404]]);
    expect(rec.embedJobs).toEqual([]);
    expect(rec.deleteAsked).toEqual([]);
  });

  it('throws a transient failure for a retry, and records it only on the last attempt', async () => {
    const failing = async () => Promise.reject(new AppError('http_status', `${PAGE} answered 503`));
    const first = setup({ fetch: failing, attemptsMade: 0 });
    await expect(scrapePage(first.data, first.ctx, first.deps)).rejects.toThrow('answered 503');
    expect(first.rec.statuses).toEqual([]);
    const last = setup({ fetch: failing, attemptsMade: 2 });
    await expect(scrapePage(last.data, last.ctx, last.deps)).rejects.toThrow('answered 503');
    expect(last.rec.statuses).toEqual([[PAGE, 'failed', `http_status: ${PAGE} answered 503`]]);
  });

  it('does nothing for a page that already reached a final state (a redelivered job)', async () => {
    let fetched = false;
    const { rec, deps, ctx, data } = setup({ status: 'embedded', fetch: async () => ((fetched = true), page('x')) });
    expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'already-done' });
    expect(fetched).toBe(false);
    expect(rec.statuses).toEqual([]);
  });
});
