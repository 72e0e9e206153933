import { createHash } from 'node:crypto';
import { chunkMarkdown, normalizeUrl, sha256Hex, stripLinkTargets } from '@kbflow/extraction';
import type { DocumentRepository, RemovedDocuments, TaskRepository } from '@kbflow/db';
import { isPermanent, Priority, PermanentError, QueueName, serializeError, type FlowNode, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
import { crawlableLinks } from '../domain/link-filter.ts';
import type { Engine, RoutedPage } from '../fetchers/engine-router.ts';
import { isGoneStatus, type Validators } from '../fetchers/fetched-page.ts';

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
  fetchPage: (url: string, engine: Engine, conditional?: Validators) => Promise<RoutedPage>;
}

export type ScrapeResult =
  | { outcome: 'already-done' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'deleted'; reason: 'gone' | 'out-of-scope'; documentId: string }
  | { outcome: 'skipped'; reason: string; documentId?: string; links: number }
  | { outcome: 'stored'; documentId: string; chunks: number; pendingChunks: number; links: number };

/** A job id from parts, without the ':' BullMQ forbids in custom ids. */
export function jobIdOf(kind: string, ...parts: string[]): string {
  return `${kind}-${createHash('sha1').update(parts.join('\u0000')).digest('hex')}`;
}

/**
 * Scrapes one page of a task: fetch (conditionally, when the page is
 * stored), extract, store (skipping unchanged content), hand changed chunks
 * to the embedder as a document flow, and on crawls claim and enqueue the
 * page's links. A 304 reads no body: the stored links expand the frontier.
 * A page gone (404/410) or redirected out of the crawl's scope loses its
 * document, chunks and vectors. Every step is idempotent, so a redelivered
 * job repeats no effect.
 */
export async function scrapePage(data: JobData<'scrape', 'scrape-page'>, ctx: JobContext, deps: ScrapeDeps): Promise<ScrapeResult> {
  // Three independent reads, at once: each is a round trip, and a crawl makes
  // about ten a page (kbflow issue 6, crawl throughput).
  const [task, before, stored] = await Promise.all([
    deps.tasks.get(data.taskId),
    deps.tasks.pageStatus(data.taskId, data.url),
    deps.documents.storedPage(data.taskId, data.url),
  ]);
  if (!task) throw new PermanentError('task_not_found', `task ${data.taskId} does not exist`);
  if (before !== 'discovered' && before !== 'scraped') return { outcome: 'already-done' };
  // Only the first pages of a task find it queued; the update is a no-op after that.
  if (task.state === 'queued') await deps.tasks.markRunning(data.taskId);

  let routed: RoutedPage;
  try {
    routed = await deps.fetchPage(data.url, data.engine as Engine, stored?.validators);
  } catch (error) {
    const httpStatus = (error as { httpStatus?: unknown }).httpStatus;
    const status = typeof httpStatus === 'number' ? httpStatus : undefined;
    if (isGoneStatus(status)) {
      const removed = await removePage(data, task, deps, ctx);
      if (removed) {
        await deps.tasks.setPageStatus(data.taskId, data.url, 'deleted', { change: 'deleted', httpStatus: status, error: serializeError(error) });
        return { outcome: 'deleted', reason: 'gone', documentId: removed.documentIds[0]! };
      }
    }
    const final = isPermanent(error) || ctx.job.attemptsMade + 1 >= (ctx.job.opts.attempts ?? 1);
    if (!final) throw error;
    await deps.tasks.setPageStatus(data.taskId, data.url, 'failed', { error: serializeError(error), ...(status !== undefined ? { httpStatus: status } : {}) });
    if (isPermanent(error)) return { outcome: 'failed', error: serializeError(error) };
    throw error;
  }

  const parent = ctx.job.parent?.id ? { id: ctx.job.parent.id, queue: ctx.job.parent.queueKey } : undefined;
  if (routed.page.notModified && stored) {
    const links = await enqueueLinks(data, stored.links, task, parent, deps);
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { documentId: stored.documentId, change: 'not-modified', httpStatus: 304 });
    return { outcome: 'skipped', reason: 'not-modified', documentId: stored.documentId, links };
  }
  // A linked page that now redirects off the crawl's origins is gone from
  // the site as crawled. Seeds are exempt: the user named them, and a seed
  // redirecting to its www. twin is still the site they asked for.
  if (data.depth > 0 && !task.params.origins.includes(new URL(routed.page.finalUrl).origin)) {
    const removed = await removePage(data, task, deps, ctx);
    if (removed) {
      await deps.tasks.setPageStatus(data.taskId, data.url, 'deleted', { change: 'deleted', httpStatus: routed.page.status, error: `redirected out of scope to ${routed.page.finalUrl}` });
      return { outcome: 'deleted', reason: 'out-of-scope', documentId: removed.documentIds[0]! };
    }
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { error: `redirected out of scope to ${routed.page.finalUrl}` });
    return { outcome: 'skipped', reason: 'out-of-scope', links: 0 };
  }

  const pageLinks = routed.extracted ? linksOf(routed.extracted.links) : [];
  const links = await enqueueLinks(data, pageLinks, task, parent, deps);
  const storedLinks = pageLinks.length > MAX_STORED_LINKS ? pageLinks.slice(0, MAX_STORED_LINKS) : pageLinks;

  const { page, extracted } = routed;
  if (!extracted) {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { error: `not a page (${page.contentType || 'no content type'})` });
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
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { documentId: written.documentId, change: 'unchanged' });
    return { outcome: 'skipped', reason: 'unchanged', documentId: written.documentId, links };
  }
  await deps.tasks.setPageStatus(data.taskId, data.url, 'scraped', { documentId: written.documentId, change: written.replaced ? 'changed' : 'new' });

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
  task: { params: { maxDepth: number; maxPages: number; origins: string[] } },
  parent: { id: string; queue: string } | undefined,
  deps: ScrapeDeps,
): Promise<number> {
  if (pageLinks.length === 0 || data.depth >= task.params.maxDepth) return 0;
  const candidates = crawlableLinks(pageLinks, data.url, task.params.origins);
  const urls = await deps.tasks.claimLinks({
    taskId: data.taskId,
    tenantId: data.tenantId,
    parentUrl: data.url,
    depth: data.depth + 1,
    urls: [...new Set(candidates)],
    maxPages: task.params.maxPages,
  });
  await deps.producer.enqueueBulk(
    QueueName.scrape,
    'scrape-page',
    urls.map((url) => ({
      data: { tenantId: data.tenantId, taskId: data.taskId, url, depth: data.depth + 1, engine: data.engine, correlationId: data.correlationId },
      opts: { priority: Priority.NORMAL, jobId: jobIdOf('scrape', data.taskId, url), parent, ignoreDependencyOnFailure: true },
    })),
  );
  return urls.length;
}
