// A scrape job run again in the same task (redelivered after its scraper
// was killed) after its first run had already stored the document. The
// first run's state is made as it would have left it, with the real
// repositories; the second run is the real processor, as a BullMQ job of a
// real worker, fetching a real local page.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository, TaskRepository, WebhookRepository, type Db } from '@kbflow/db';
import { chunkMarkdown, sha256Hex, stripLinkTargets } from '@kbflow/extraction';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, Priority, QueueName, TenantSlots, type Redis } from '@kbflow/queues';
import { createTenantFixture, startStaticServer, testRedisUrl, uniquePrefix, type StaticServer, type TenantFixture } from '@kbflow/testing';
import type { Worker } from 'bullmq';
import { EngineRouter } from '../src/fetchers/engine-router.ts';
import { HttpFetcher } from '../src/fetchers/http-fetcher.ts';
import { HostLimiter } from '../src/politeness/host-limiter.ts';
import { jobIdOf, scrapePage, type ScrapeDeps } from '../src/processors/scrape-page.processor.ts';

const PARAGRAPHS = Array.from(
  { length: 40 },
  (_, i) => `<h2>Section ${i}</h2><p>${`Paragraph ${i} explains how the printer spooler recovers from a jam on tray ${i}. `.repeat(12)}</p>`,
).join('');
const PAGE = `<html><head><title>Spooler guide</title></head><body><main><h1>Spooler guide</h1>${PARAGRAPHS}</main></body></html>`;

const log = createLogger('scraper-test', 'silent');
let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let prefix: string;
let producer: JobProducer;
let site: StaticServer;
let siteDir: string;
let http: HttpFetcher;
let worker: Worker;
let tenantId: string;
let knowledgeBaseId: string;
let deps: ScrapeDeps;
/** What another run of the same job gets done while this run fetches (once). */
let duringFetch: (() => Promise<void>) | undefined;

beforeAll(async () => {
  fixture = await createTenantFixture('redelivered', { apiKey: 'redelivered-key' });
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  prefix = uniquePrefix('redelivered-scrape');
  producer = new JobProducer(redis, prefix);
  // The pages are inline routes; the directory stays empty.
  siteDir = await mkdtemp(path.join(tmpdir(), 'kbflow-redelivered-'));
  site = await startStaticServer(siteDir, {
    '/guide.html': PAGE,
    '/other.html': PAGE.replace('Spooler guide', 'Tray guide'),
    '/third.html': PAGE.replace('Spooler guide', 'Jam guide'),
    '/fourth.html': PAGE.replace('Spooler guide', 'Feed guide'),
  });
  http = new HttpFetcher({ allowPrivateNetworks: true, maxBytes: 1_000_000, timeoutMs: 10_000, maxRedirects: 3, userAgent: 'kbflow-test' });
  const registry = createMetrics('scraper').registry;
  const noBrowser = { fetch: () => Promise.reject(new Error('no browser in this test')), close: async () => undefined };
  const engines = new EngineRouter(http, noBrowser as never, log, registry);
  const tasks = new TaskRepository(db);
  deps = {
    tasks,
    documents: new DocumentRepository(db),
    producer,
    webhooks: new WebhookRepository(db, tasks),
    fetchPage: async (url, engine, conditional) => {
      const routed = await engines.fetch(url, engine, conditional);
      const other = duringFetch;
      duringFetch = undefined;
      await other?.();
      return routed;
    },
    politeness: {
      robots: { rulesFor: () => Promise.reject(new Error('robots.txt is not read: the task does not respect it')) },
      limiter: new HostLimiter(redis, prefix, { leaseMs: 15_000 }),
      tenants: new TenantSlots({ redis, prefix, limitOf: async () => 8 }),
      defaults: { maxConcurrency: 4, minDelayMs: 0, maxBackoffMs: 60_000 },
      sitemapUrls: async () => [],
    },
  };
  worker = createWorker({
    queue: QueueName.scrape,
    handlers: { 'scrape-page': (data, ctx) => scrapePage(data, ctx, deps) },
    connection: redis,
    producer,
    log,
    registry,
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await Promise.all(producer?.allQueues().map((q) => q.obliterate({ force: true })) ?? []);
  await producer?.close();
  await redis?.quit();
  await http?.close();
  await site?.close();
  if (siteDir) await rm(siteDir, { recursive: true, force: true });
  await fixture?.close();
});

/** A crawl task of one page, and the state its first scrape left: the document stored, the page `pageStatus`. */
async function firstRunStored(
  page: string,
  pageStatus: 'discovered' | 'scraped',
): Promise<{ taskId: string; url: string; documentId: string; chunkIds: string[] }> {
  const url = `${site.url}${page}`;
  const taskId = await deps.tasks.createCrawlTask({
    tenantId,
    knowledgeBaseId,
    type: 'scrape',
    params: { seeds: [url], maxPages: 1, maxDepth: 0, engine: 'http', origins: [site.url], respectRobots: false },
  });
  await deps.tasks.markRunning(taskId);
  // What the first run stored: the same page, fetched and extracted the same way.
  const routed = await deps.fetchPage(url, 'http');
  const extracted = routed.extracted!;
  const written = await deps.documents.store({
    tenantId,
    knowledgeBaseId,
    url,
    title: extracted.title,
    markdown: extracted.markdown,
    contentHash: sha256Hex(`${extracted.title}\n${extracted.markdown}`),
    contentType: 'page',
    source: new URL(url).host,
    chunks: chunkMarkdown(stripLinkTargets(extracted.markdown)).map((c) => ({ position: c.position, heading: c.heading, text: c.text, hash: c.hash })),
    page: { etag: null, lastModified: null, links: [] },
  });
  if (pageStatus === 'scraped') await deps.tasks.setPageStatus(taskId, url, 'scraped', { documentId: written.documentId, change: 'new' });
  return { taskId, url, documentId: written.documentId, chunkIds: written.chunkIds };
}

/** Runs the page's scrape job (its second run) and waits for it to finish. */
async function runAgain(taskId: string, url: string): Promise<unknown> {
  const job = await producer.enqueue(
    QueueName.scrape,
    'scrape-page',
    { tenantId, taskId, url, depth: 0, engine: 'http' },
    { priority: Priority.NORMAL, jobId: `scrape-${taskId}-0` },
  );
  const queue = producer.queue(QueueName.scrape);
  for (const deadline = Date.now() + 30_000; ;) {
    const current = await queue.getJob(String(job.id));
    const state = await current?.getState();
    if (state === 'completed') return current!.returnvalue;
    if (state === 'failed') throw new Error(`scrape failed: ${current?.failedReason}`);
    if (Date.now() > deadline) throw new Error(`scrape job still ${state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The chunk ids the embed jobs queued for a document carry, and its complete-document job's state. */
async function queuedEmbedding(taskId: string, documentId: string): Promise<{ chunkIds: string[]; completion: string | undefined }> {
  const embeds = await producer.queue(QueueName.embed).getJobs(['waiting', 'prioritized', 'delayed', 'waiting-children'], 0, -1);
  const chunkIds = embeds.filter((j) => j.name === 'embed-chunks' && j.data.documentId === documentId).flatMap((j) => j.data.chunkIds as string[]);
  const completion = await producer.queue(QueueName.aggregate).getJobState(jobIdOf('doc', taskId, documentId));
  return { chunkIds: chunkIds.sort(), completion: completion === 'unknown' ? undefined : completion };
}

describe('a scrape job run again after its first run stored the document', () => {
  it.each(['scraped', 'discovered'] as const)(
    'with the page %s and no embed flow queued, it queues the embedding of the stored chunks',
    async (status) => {
      const first = await firstRunStored(status === 'scraped' ? '/guide.html' : '/other.html', status);
      expect(first.chunkIds.length).toBeGreaterThan(3);
      expect(await queuedEmbedding(first.taskId, first.documentId)).toEqual({ chunkIds: [], completion: undefined });

      const result = await runAgain(first.taskId, first.url);
      expect(result).toEqual(expect.objectContaining({ outcome: 'stored', documentId: first.documentId, pendingChunks: first.chunkIds.length }));
      // Every chunk goes to the embedder, under the document's completion job.
      expect(await queuedEmbedding(first.taskId, first.documentId)).toEqual({ chunkIds: [...first.chunkIds].sort(), completion: 'waiting-children' });
      const page = await db.taskPage.findFirstOrThrow({ where: { taskId: first.taskId, url: first.url } });
      expect({ status: page.status, documentId: page.documentId }).toEqual({ status: 'scraped', documentId: first.documentId });
      expect(await db.chunk.count({ where: { documentId: first.documentId } })).toBe(first.chunkIds.length);
    },
    60_000,
  );

  it('with the page scraped and its embed flow since done (document indexed), the page ends embedded, not skipped', async () => {
    const first = await firstRunStored('/third.html', 'scraped');
    // What the first run's flow did meanwhile: the chunks embedded, the
    // document completed (complete-document marks the page embedded after
    // this; here the re-run reads the page before that write, or the
    // aggregator died between the two).
    await deps.documents.markChunksIndexed(first.chunkIds);
    expect(await deps.documents.completeDocument(first.documentId)).toEqual(expect.objectContaining({ complete: true }));

    expect(await runAgain(first.taskId, first.url)).toEqual({ outcome: 'already-done' });
    const page = await db.taskPage.findFirstOrThrow({ where: { taskId: first.taskId, url: first.url } });
    expect({ status: page.status, documentId: page.documentId, change: page.change }).toEqual({
      status: 'embedded',
      documentId: first.documentId,
      change: 'new',
    });
    expect(await queuedEmbedding(first.taskId, first.documentId)).toEqual({ chunkIds: [], completion: undefined });
    expect(await deps.tasks.progress(first.taskId)).toEqual(expect.objectContaining({ embedded: 1, skipped: 0 }));
  }, 60_000);

  it('beside another run of the same job (its lock lost) whose flow embeds the page while this one fetches, the page ends embedded, not skipped', async () => {
    // The other run stored the page; this run reads it still `discovered`.
    const first = await firstRunStored('/fourth.html', 'discovered');
    duringFetch = async () => {
      await deps.tasks.setPageStatus(first.taskId, first.url, 'scraped', { documentId: first.documentId, change: 'new' });
      await deps.documents.markChunksIndexed(first.chunkIds);
      await deps.documents.completeDocument(first.documentId);
      await deps.tasks.setPageStatus(first.taskId, first.url, 'embedded', { documentId: first.documentId });
    };
    expect(await runAgain(first.taskId, first.url)).toEqual({ outcome: 'already-done' });
    expect(duringFetch).toBeUndefined();
    const page = await db.taskPage.findFirstOrThrow({ where: { taskId: first.taskId, url: first.url } });
    expect({ status: page.status, change: page.change }).toEqual({ status: 'embedded', change: 'new' });
    expect(await deps.tasks.progress(first.taskId)).toEqual(expect.objectContaining({ embedded: 1, skipped: 0 }));
  }, 60_000);

  it('with the page discovered and the document indexed by an earlier task, the page is skipped as unchanged', async () => {
    const first = await firstRunStored('/fourth.html', 'discovered');
    // /fourth.html is indexed since the test before: this task finds it unchanged.
    expect(await db.document.findUniqueOrThrow({ where: { id: first.documentId }, select: { status: true } })).toEqual({ status: 'indexed' });
    const result = await runAgain(first.taskId, first.url);
    expect(result).toEqual(expect.objectContaining({ outcome: 'skipped', reason: 'unchanged', documentId: first.documentId }));
    const page = await db.taskPage.findFirstOrThrow({ where: { taskId: first.taskId, url: first.url } });
    expect({ status: page.status, change: page.change, bytes: (page.bytes ?? 0) > 0 }).toEqual({ status: 'skipped', change: 'unchanged', bytes: true });
    expect(await queuedEmbedding(first.taskId, first.documentId)).toEqual({ chunkIds: [], completion: undefined });
  }, 60_000);
});
