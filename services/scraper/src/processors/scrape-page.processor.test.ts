import { describe, expect, it } from '@jest/globals';
import type { DocumentRepository, PageStatus, StoreResult, TaskRepository } from '@kbflow/db';
import { AppError, PermanentError, type FlowNode, type JobContext, type JobProducer } from '@kbflow/queues';
import { pino } from 'pino';
import type { RoutedPage } from '../fetchers/engine-router.ts';
import { EMBED_BATCH_SIZE, scrapePage, type ScrapeDeps } from './scrape-page.processor.ts';

const TASK = '33333333-3333-4333-8333-333333333333';
const TENANT = '11111111-1111-4111-8111-111111111111';
const PAGE = 'http://docs.local/a.html';

interface Recorder {
  statuses: [string, PageStatus, string | undefined][];
  flows: FlowNode[];
  bulk: { url: string; parent?: unknown }[];
  claimed: string[][];
  /** The `source` each stored document was given. */
  sources: (string | undefined)[];
  /** The change and bytes each status update recorded (the run report's inputs). */
  changes: [string | undefined, number | undefined][];
}

function setup(opts: { status?: PageStatus; fetch: () => Promise<RoutedPage>; store?: Partial<StoreResult>; attemptsMade?: number; maxDepth?: number; state?: string; includePaths?: string[]; excludePaths?: string[] }) {
  const rec: Recorder = { statuses: [], flows: [], bulk: [], claimed: [], sources: [], changes: [] };
  const tasks = {
    get: async () => ({
      id: TASK,
      tenantId: TENANT,
      knowledgeBaseId: 'kb',
      state: opts.state ?? 'running',
      params: { seeds: [PAGE], maxPages: 100, maxDepth: opts.maxDepth ?? 2, engine: 'auto', origins: ['http://docs.local'], includePaths: opts.includePaths, excludePaths: opts.excludePaths },
    }),
    pageStatus: async () => opts.status ?? 'discovered',
    markRunning: async () => undefined,
    setPageStatus: async (_t: string, url: string, status: PageStatus, extra: { error?: string; change?: string; bytes?: number } = {}) => {
      rec.statuses.push([url, status, extra.error]);
      rec.changes.push([extra.change, extra.bytes]);
    },
    claimLinks: async (input: { urls: string[] }) => {
      rec.claimed.push(input.urls);
      return input.urls;
    },
  } as unknown as TaskRepository;
  const documents = {
    store: async (input: { chunks: unknown[]; source?: string }) => {
      rec.sources.push(input.source);
      return {
        documentId: 'doc-1',
        changed: true,
        replaced: false,
        pendingChunkIds: input.chunks.map((_, i) => `chunk-${i}`),
        chunkIds: [],
        ...opts.store,
      };
    },
  } as unknown as DocumentRepository;
  const producer = {
    enqueueFlow: async (node: FlowNode) => {
      rec.flows.push(node);
    },
    enqueueBulk: async (_q: string, _n: string, jobs: { data: { url: string }; opts: { parent?: unknown } }[]) => {
      rec.bulk.push(...jobs.map((j) => ({ url: j.data.url, parent: j.opts.parent })));
      return [];
    },
  } as unknown as JobProducer;
  const deps: ScrapeDeps = { tasks, documents, producer, fetchPage: opts.fetch };
  const ctx = {
    job: { attemptsMade: opts.attemptsMade ?? 0, opts: { attempts: 3 }, parent: { id: `crawl-${TASK}`, queueKey: '{kbflow}:aggregate' } },
    log: pino({ level: 'silent' }),
    correlationId: TASK,
  } as unknown as JobContext;
  return { rec, deps, ctx, data: { tenantId: TENANT, taskId: TASK, url: PAGE, depth: 0, engine: 'auto' as const } };
}

const longSection = (n: number) => Array.from({ length: n }, (_, i) => `## Section ${i}\n\n${`Sentence number ${i} about the topic. `.repeat(30)}`).join('\n\n');

const page = (markdown: string, links: string[] = []): RoutedPage => ({
  page: { finalUrl: PAGE, status: 200, contentType: 'text/html', html: '<html></html>', engine: 'http' },
  extracted: { title: 'A', markdown, text: markdown, links, needsJavaScript: false },
});

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
      expect(rec.changes[0]).toEqual([change, Buffer.byteLength(html)]);
    }
  });

  it('follows only links whose path passes includePaths and excludePaths', async () => {
    const links = ['http://docs.local/docs/a.html', 'http://docs.local/docs/private/b.html', 'http://docs.local/blog/c.html', 'http://docs.local/docs/d.html?print=1'];
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
    const { rec, deps, ctx, data } = setup({ fetch: async () => page('# A\n\nSame text as before, long enough to be a chunk.'), store: { changed: false, pendingChunkIds: [] } });
    expect((await scrapePage(data, ctx, deps)).outcome).toBe('skipped');
    expect(rec.statuses).toEqual([[PAGE, 'skipped', undefined]]);
    expect(rec.flows).toEqual([]);
  });

  it('claims same-origin links and enqueues them as children of the crawl', async () => {
    const links = ['http://docs.local/b.html', 'http://docs.local/b.html#frag', 'http://elsewhere.example/c.html', 'http://docs.local/logo.png'];
    const { rec, deps, ctx, data } = setup({ fetch: async () => page('# A\n\nText of the page, long enough for one chunk.', links) });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed).toEqual([['http://docs.local/b.html']]);
    expect(rec.bulk).toEqual([{ url: 'http://docs.local/b.html', parent: { id: `crawl-${TASK}`, queue: '{kbflow}:aggregate' } }]);
  });

  it('does not follow links past maxDepth', async () => {
    const { rec, deps, ctx, data } = setup({ maxDepth: 0, fetch: async () => page('# A\n\nText of the page, long enough for one chunk.', ['http://docs.local/b.html']) });
    await scrapePage(data, ctx, deps);
    expect(rec.claimed).toEqual([]);
  });

  it('records a permanent failure (a 404) without throwing, so no attempt is wasted', async () => {
    const { rec, deps, ctx, data } = setup({ fetch: async () => Promise.reject(new PermanentError('http_status', `${PAGE} answered 404`)) });
    expect(await scrapePage(data, ctx, deps)).toEqual({ outcome: 'failed', error: `http_status: ${PAGE} answered 404` });
    expect(rec.statuses).toEqual([[PAGE, 'failed', `http_status: ${PAGE} answered 404`]]);
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
