import { createHash } from 'node:crypto';
import { chunkMarkdown, compilePathPatterns, normalizeUrl, pathAllowed, sha256Hex, stripLinkTargets } from '@kbflow/extraction';
import type { DocumentRepository, PageSettlement, RemovedDocuments, TaskRepository } from '@kbflow/db';
import { AppError, describeError, isPermanent, PermanentError } from '@kbflow/errors';
import {
  emitWebhookEvent,
  JobDeferral,
  Priority,
  QueueName,
  type FlowNode,
  type JobContext,
  type JobData,
  type JobProducer,
  type WebhookEventSource,
} from '@kbflow/queues';
import { crawlableLinks } from '../domain/link-filter.ts';
import type { RobotsRules } from '../domain/robots-rules.ts';
import type { SitemapEntry } from '../domain/sitemap-parser.ts';
import type { Engine, RoutedPage } from '../fetchers/engine-router.ts';
import { HttpStatusError, isGoneStatus, type Validators } from '../fetchers/fetched-page.ts';
import type { HeldShare } from '../politeness/host-limiter.ts';
import { hostAskedToWait, hostLimits, inBackground, MIN_DEFERRAL_MS, type PolitenessDeps } from './page-politeness.ts';

/** How many chunk ids one embed job carries (a claim check, not the text). */
export const EMBED_BATCH_SIZE = 32;

/**
 * Links stored per page for 304 recrawls: a bound on the row, far above any
 * documentation page's distinct links. A fetched page's links are all
 * followed; a 304 page expands to its first MAX_STORED_LINKS.
 */
export const MAX_STORED_LINKS = 5000;

export interface ScrapeDeps {
  tasks: TaskRepository;
  documents: DocumentRepository;
  producer: JobProducer;
  /** run.started for tasks with a webhook (docs/webhooks.md). */
  webhooks: WebhookEventSource;
  fetchPage: (url: string, engine: Engine, conditional?: Validators) => Promise<RoutedPage>;
  politeness: PolitenessDeps;
}

export type ScrapeResult =
  | { outcome: 'already-done' }
  | { outcome: 'cancelled' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'deleted'; reason: 'gone' | 'out-of-scope'; documentId: string }
  | { outcome: 'skipped'; reason: string; documentId?: string; links: number }
  | { outcome: 'stored'; documentId: string; chunks: number; pendingChunks: number; links: number };

/**
 * Whether a sitemap `<lastmod>` says the page is no newer than `fetchedAt`.
 * A date without a time (`2026-11-01`, the common form) may mean any moment
 * of that day, so it counts as the day's end: a page changed the afternoon
 * after a morning fetch is fetched again. Unreadable: false (fetch it).
 */
function notModifiedSince(lastmod: string, fetchedAt: Date): boolean {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(lastmod.trim());
  const at = Date.parse(dateOnly ? `${lastmod.trim()}T00:00:00Z` : lastmod);
  if (Number.isNaN(at)) return false;
  return (dateOnly ? at + 24 * 3600_000 : at) <= fetchedAt.getTime();
}

/** A job id from parts, without the ':' BullMQ forbids in custom ids. */
export function jobIdOf(kind: string, ...parts: string[]): string {
  return `${kind}-${createHash('sha1').update(parts.join('\u0000')).digest('hex')}`;
}

/**
 * Scrapes one page of a task: obey robots.txt and the host's limits (a
 * busy or backed-off host defers the job without spending an attempt),
 * fetch (conditionally, when the page is stored), extract, store (skipping unchanged content), hand changed chunks
 * to the embedder as a document flow, and on crawls claim and enqueue the
 * page's links. A 304 reads no body: the stored links expand the frontier.
 * A page gone (404/410) or redirected out of the crawl's scope loses its
 * document, chunks and vectors. Every step is idempotent, so a redelivered
 * job repeats no effect.
 */
export async function scrapePage(data: JobData<'scrape', 'scrape-page'>, ctx: JobContext, deps: ScrapeDeps): Promise<ScrapeResult> {
  // The task, the page's status and its stored document in one read: every
  // page pays it, and a recrawl's pages do little else (kbflow issue 13).
  const context = await deps.tasks.scrapeContext(data.taskId, data.url);
  if (!context) throw new PermanentError('task_not_found', `task ${data.taskId} does not exist`);
  const { task, status: before } = context;
  if (before !== 'discovered' && before !== 'scraped') return { outcome: 'already-done' };
  // A cancelled task's queued pages are dropped here, at pickup: no fetch,
  // and the job completes, so no attempt is spent and its flow parent can
  // settle the task `cancelled`.
  if (task.state === 'cancelling' || task.state === 'cancelled') {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'cancelled', { error: 'cancelled before it was fetched' });
    return { outcome: 'cancelled' };
  }
  // Only the first pages of a task find it queued; the update is a no-op
  // after that. Each of them (and a retry of one) asks for run.started: the
  // event's job id dedupes, so it is sent once even when the page that
  // marked the task running failed before it could enqueue the event.
  if (task.state === 'queued') {
    await deps.tasks.markRunning(data.taskId);
    await emitWebhookEvent(deps, data.taskId, 'run.started', ctx.correlationId);
  }

  let giveBack: (() => Promise<HeldShare | void>) | undefined;
  try {
    return await fetchAndStore(data, ctx, deps, context, (returning) => (giveBack = returning));
  } finally {
    // The slot went back while the page's bookkeeping ran; the job ends
    // once it has, and with the tenant's share a fetched page kept.
    const share = await giveBack?.();
    await share?.release();
  }
}

/**
 * scrapePage from robots.txt on, for a task that is running; `hold`
 * receives the slot's return, under way, which settles with the tenant's
 * share a fetched page keeps until the job ends.
 */
async function fetchAndStore(
  data: JobData<'scrape', 'scrape-page'>,
  ctx: JobContext,
  deps: ScrapeDeps,
  { task, stored }: NonNullable<Awaited<ReturnType<TaskRepository['scrapeContext']>>>,
  hold: (returning: () => Promise<HeldShare | void>) => void,
): Promise<ScrapeResult> {
  const pageUrl = new URL(data.url);
  const respectRobots = task.params.respectRobots ?? true;
  let routed: RoutedPage;
  let sitemapEntries: SitemapEntry[] = [];
  let robots: RobotsRules | undefined;
  try {
    if (respectRobots) {
      robots = await deps.politeness.robots.rulesFor(pageUrl.origin);
      if (robots.file.kind === 'unreachable')
        throw new AppError(
          'robots_unavailable',
          `${pageUrl.origin}: ${robots.file.reason}; its pages are retried later (RFC 9309: an unreachable robots.txt allows nothing)`,
        );
      if (!robots.isAllowed(data.url)) throw new PermanentError('robots_disallowed', `${data.url} is disallowed by ${pageUrl.origin}/robots.txt for kbflow`);
    }
    // The sitemap says the page has not changed since this knowledge base last
    // fetched it: no request at all (not even a conditional one, nor a host
    // slot); the stored links expand the frontier, as for a 304.
    if (stored?.fetchedAt && data.lastmod && notModifiedSince(data.lastmod, stored.fetchedAt)) {
      const parentOfJob = ctx.job.parent?.id ? { id: ctx.job.parent.id, queue: ctx.job.parent.queueKey } : undefined;
      const settle = { status: 'skipped', extra: { documentId: stored.documentId, change: 'not-modified', bytes: 0 } } as const;
      const { count: links, settled } = await enqueueLinks(data, stored.links, task, parentOfJob, deps, robots, [], settle);
      if (!settled) await deps.tasks.setPageStatus(data.taskId, data.url, settle.status, settle.extra);
      return { outcome: 'skipped', reason: 'lastmod', documentId: stored.documentId, links };
    }
    const limits = hostLimits(task.params.politeness, robots, deps.politeness.defaults);
    // The host's slot and the tenant's share of the scrapers, in one step.
    const share = await deps.politeness.tenants.shareOf(QueueName.scrape, data.tenantId);
    const slot = await deps.politeness.limiter.acquire(pageUrl.host, limits, share);
    if (!slot.granted) {
      if (slot.reason === 'tenant-limit') throw await deps.politeness.tenants.deferral(data.tenantId, share.max);
      throw new JobDeferral(slot.reason, Math.max(slot.waitMs, MIN_DEFERRAL_MS) + Math.random() * 250);
    }
    let fetched = false;
    try {
      routed = await deps.fetchPage(data.url, data.engine as Engine, stored?.validators);
      // The seed of a crawl reads the sitemaps, within its slot (a few capped requests).
      if (data.depth === 0 && task.params.sitemaps === 'auto' && task.params.maxDepth > 0) {
        sitemapEntries = await deps.politeness.sitemapUrls(pageUrl.origin, robots?.sitemaps() ?? [], task.params.maxPages);
      }
      fetched = true;
    } catch (error) {
      await hostAskedToWait(error, pageUrl.host, data, ctx, deps.politeness);
      throw error;
    } finally {
      // A page with content to extract and store keeps its tenant's share
      // until the job ends; a 304 or a failed fetch gives both back at once
      // (what is left is a query or two of bookkeeping). Either way the
      // slot goes back beside the next query, not before it: one round trip
      // off every page's critical path (issue 11).
      hold(inBackground<HeldShare | void>(fetched && !routed!.page.notModified ? slot.releaseHost() : slot.release()));
    }
  } catch (error) {
    if (error instanceof JobDeferral) throw error;
    const status = error instanceof HttpStatusError ? error.status : undefined;
    // Only a page stored when this job began has a document to lose: most
    // dead links never had one, and a recrawl asks again for each of them.
    if (isGoneStatus(status) && stored) {
      const removed = await removePage(data, task, deps, ctx);
      if (removed) {
        await deps.tasks.setPageStatus(data.taskId, data.url, 'deleted', { change: 'deleted', httpStatus: status, error: describeError(error) });
        return { outcome: 'deleted', reason: 'gone', documentId: removed.documentIds[0]! };
      }
    }
    const final = isPermanent(error) || ctx.job.attemptsMade + 1 >= (ctx.job.opts.attempts ?? 1);
    if (!final) throw error;
    await deps.tasks.setPageStatus(data.taskId, data.url, 'failed', { error: describeError(error), ...(status !== undefined ? { httpStatus: status } : {}) });
    if (isPermanent(error)) return { outcome: 'failed', error: describeError(error) };
    throw error;
  }

  const parent = ctx.job.parent?.id ? { id: ctx.job.parent.id, queue: ctx.job.parent.queueKey } : undefined;
  if (routed.page.notModified && stored) {
    // Most pages of an unchanged recrawl: their status goes with the claim
    // of their links when none is left to queue (one round trip fewer).
    const settle = { status: 'skipped', extra: { documentId: stored.documentId, change: 'not-modified', httpStatus: 304, bytes: 0 } } as const;
    const { count: links, settled } = await enqueueLinks(data, stored.links, task, parent, deps, robots, sitemapEntries, settle);
    if (!settled) await deps.tasks.setPageStatus(data.taskId, data.url, settle.status, settle.extra);
    return { outcome: 'skipped', reason: 'not-modified', documentId: stored.documentId, links };
  }
  // A linked page that now redirects off the crawl's origins is gone from
  // the site as crawled. Seeds are exempt: the user named them, and a seed
  // redirecting to its www. twin is still the site they asked for.
  if (data.depth > 0 && !task.params.origins.includes(new URL(routed.page.finalUrl).origin)) {
    const removed = await removePage(data, task, deps, ctx);
    if (removed) {
      await deps.tasks.setPageStatus(data.taskId, data.url, 'deleted', {
        change: 'deleted',
        httpStatus: routed.page.status,
        error: `redirected out of scope to ${routed.page.finalUrl}`,
      });
      return { outcome: 'deleted', reason: 'out-of-scope', documentId: removed.documentIds[0]! };
    }
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { error: `redirected out of scope to ${routed.page.finalUrl}` });
    return { outcome: 'skipped', reason: 'out-of-scope', links: 0 };
  }

  const pageLinks = routed.extracted ? linksOf(routed.extracted.links) : [];
  const { count: links } = await enqueueLinks(data, pageLinks, task, parent, deps, robots, sitemapEntries);
  const storedLinks = pageLinks.length > MAX_STORED_LINKS ? pageLinks.slice(0, MAX_STORED_LINKS) : pageLinks;

  const { page, extracted } = routed;
  const bytes = bodyBytes(page);
  if (!extracted) {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { error: `not a page (${page.contentType || 'no content type'})`, bytes });
    return { outcome: 'skipped', reason: 'not-html', links };
  }
  // Documents are keyed by the URL the user or the crawl asked for, so a
  // redirect does not create a second document on the next crawl.
  const chunks = chunkMarkdown(stripLinkTargets(extracted.markdown));
  const written = await deps.documents.store({
    tenantId: data.tenantId,
    knowledgeBaseId: task.knowledgeBaseId,
    url: data.url,
    title: extracted.title,
    markdown: extracted.markdown,
    contentHash: sha256Hex(`${extracted.title}\n${extracted.markdown}`),
    contentType: 'page',
    // The site a page came from, filterable in search (`sources`).
    source: new URL(data.url).host,
    chunks: chunks.map((c) => ({ position: c.position, heading: c.heading, text: c.text, hash: c.hash })),
    page: { etag: page.validators?.etag ?? null, lastModified: page.validators?.lastModified ?? null, links: storedLinks },
  });
  if (!written.changed) {
    // The same job may have run before, or be running beside this run (a
    // lock lost): its first run stored the page and its embed flow indexed
    // the document since (a document with chunks not yet indexed stays
    // `indexing`, which `store` reports as changed, so this run re-queues its
    // embedding). `markUnchanged` decides on the page as it is now, so that
    // `skipped` never overwrites a page this task embedded.
    const now = await deps.tasks.markUnchanged(data.taskId, data.url, { documentId: written.documentId, bytes });
    if (now !== 'skipped') return { outcome: 'already-done' };
    return { outcome: 'skipped', reason: 'unchanged', documentId: written.documentId, links };
  }
  await deps.tasks.setPageStatus(data.taskId, data.url, 'scraped', { documentId: written.documentId, change: written.replaced ? 'changed' : 'new', bytes });

  const batches: FlowNode[] = [];
  for (let i = 0; i < written.pendingChunkIds.length; i += EMBED_BATCH_SIZE) {
    const chunkIds = written.pendingChunkIds.slice(i, i + EMBED_BATCH_SIZE);
    batches.push({
      queue: QueueName.embed,
      name: 'embed-chunks',
      data: { tenantId: data.tenantId, documentId: written.documentId, chunkIds, correlationId: ctx.correlationId },
      opts: { priority: Priority.NORMAL, jobId: jobIdOf('embed', written.documentId, ...chunkIds), ignoreDependencyOnFailure: true },
    });
  }
  await deps.producer.enqueueFlow({
    queue: QueueName.aggregate,
    name: 'complete-document',
    data: {
      tenantId: data.tenantId,
      taskId: data.taskId,
      documentId: written.documentId,
      url: data.url,
      replacesPrevious: written.replaced,
      correlationId: ctx.correlationId,
    },
    opts: { priority: Priority.NORMAL, jobId: jobIdOf('doc', data.taskId, written.documentId), parent, ignoreDependencyOnFailure: true },
    children: batches,
  });
  ctx.log.debug({ url: data.url, chunks: chunks.length, pending: written.pendingChunkIds.length }, 'page stored');
  return { outcome: 'stored', documentId: written.documentId, chunks: chunks.length, pendingChunks: written.pendingChunkIds.length, links };
}

/** A page's links, normalized and deduplicated in page order; not yet filtered by any crawl's scope. */
function linksOf(raw: string[]): string[] {
  const out = new Set<string>();
  for (const link of raw) {
    const normalized = normalizeUrl(link);
    if (normalized !== null) out.add(normalized);
  }
  return [...out];
}

/**
 * Removes a stored page with its chunks (gone, or out of scope) and asks
 * the embedder to delete its vectors, at HIGH priority: a removed page must
 * stop showing up in answers soon. Search and answers stop citing it at
 * once, since hits are re-read from PostgreSQL; should the enqueue fail
 * after the rows went, the vectorization sweep removes vectors without a row.
 */
async function removePage(
  data: JobData<'scrape', 'scrape-page'>,
  task: { knowledgeBaseId: string },
  deps: ScrapeDeps,
  ctx: JobContext,
): Promise<RemovedDocuments | undefined> {
  const removed = await deps.documents.deletePage(task.knowledgeBaseId, data.url);
  if (!removed) return undefined;
  await deps.producer.enqueueBulk(QueueName.embed, 'delete-vectors', [
    {
      data: { tenantId: data.tenantId, documentIds: removed.documentIds, chunkIds: removed.chunkIds, correlationId: ctx.correlationId },
      opts: { priority: Priority.HIGH, jobId: jobIdOf('delete', data.taskId, ...removed.documentIds) },
    },
  ]);
  ctx.log.info({ url: data.url, documentId: removed.documentIds[0], chunks: removed.chunkIds.length }, 'page removed');
  return removed;
}

async function enqueueLinks(
  data: JobData<'scrape', 'scrape-page'>,
  pageLinks: string[],
  task: { params: { maxDepth: number; maxPages: number; origins: string[]; includePaths?: string[]; excludePaths?: string[] } },
  parent: { id: string; queue: string } | undefined,
  deps: ScrapeDeps,
  robots: RobotsRules | undefined,
  sitemapEntries: SitemapEntry[],
  settle?: PageSettlement,
): Promise<{ count: number; settled: boolean }> {
  if ((pageLinks.length === 0 && sitemapEntries.length === 0) || data.depth >= task.params.maxDepth) return { count: 0, settled: false };
  const lastmod = new Map<string, string>();
  const fromSitemaps: string[] = [];
  for (const entry of sitemapEntries) {
    const url = normalizeUrl(entry.url);
    if (!url) continue;
    fromSitemaps.push(url);
    if (entry.lastmod) lastmod.set(url, entry.lastmod);
  }
  const patterns = compilePathPatterns(task.params.includePaths, task.params.excludePaths);
  // The page's own links first (they keep today's order under maxPages), then
  // the sitemaps'; disallowed ones are never claimed, so they cost no budget;
  // the source's include/exclude patterns narrow both.
  const pageOrigin = new URL(data.url).origin;
  const candidates = crawlableLinks(
    [...pageLinks, ...fromSitemaps],
    data.url,
    task.params.origins,
    (url, link) => (!robots || url.origin !== pageOrigin || robots.isAllowed(link)) && pathAllowed(url, patterns),
  );
  const { urls, settled } = await deps.tasks.claimLinks({
    taskId: data.taskId,
    tenantId: data.tenantId,
    parentUrl: data.url,
    depth: data.depth + 1,
    urls: [...new Set(candidates)],
    maxPages: task.params.maxPages,
    ...(settle ? { settle } : {}),
  });
  await deps.producer.enqueueBulk(
    QueueName.scrape,
    'scrape-page',
    urls.map((url) => ({
      data: {
        tenantId: data.tenantId,
        taskId: data.taskId,
        url,
        depth: data.depth + 1,
        engine: data.engine,
        correlationId: data.correlationId,
        ...(lastmod.has(url) ? { lastmod: lastmod.get(url) } : {}),
      },
      opts: { priority: Priority.NORMAL, jobId: jobIdOf('scrape', data.taskId, url), parent, ignoreDependencyOnFailure: true },
    })),
  );
  return { count: urls.length, settled };
}

/** The body bytes a fetch read (the document's bytes, or the page's HTML as UTF-8), for the run report. */
function bodyBytes(page: RoutedPage['page']): number {
  return page.document ? page.document.bytes.byteLength : Buffer.byteLength(page.html, 'utf8');
}
