import { createHash } from 'node:crypto';
import { chunkMarkdown, compilePathPatterns, normalizeUrl, pathAllowed, sha256Hex, stripLinkTargets } from '@kbflow/extraction';
import type { DocumentRepository, TaskRepository } from '@kbflow/db';
import { isPermanent, Priority, PermanentError, QueueName, serializeError, type FlowNode, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
import { crawlableLinks } from '../domain/link-filter.ts';
import type { Engine, RoutedPage } from '../fetchers/engine-router.ts';

/** How many chunk ids one embed job carries (a claim check, not the text). */
export const EMBED_BATCH_SIZE = 32;

export interface ScrapeDeps {
  tasks: TaskRepository;
  documents: DocumentRepository;
  producer: JobProducer;
  fetchPage: (url: string, engine: Engine) => Promise<RoutedPage>;
}

export type ScrapeResult =
  | { outcome: 'already-done' }
  | { outcome: 'cancelled' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'skipped'; reason: string; documentId?: string; links: number }
  | { outcome: 'stored'; documentId: string; chunks: number; pendingChunks: number; links: number };

/** A job id from parts, without the ':' BullMQ forbids in custom ids. */
export function jobIdOf(kind: string, ...parts: string[]): string {
  return `${kind}-${createHash('sha1').update(parts.join('\u0000')).digest('hex')}`;
}

/**
 * Scrapes one page of a task: fetch, extract, store (skipping unchanged
 * content), hand changed chunks to the embedder as a document flow, and on
 * crawls claim and enqueue the page's links. Every step is idempotent, so a
 * redelivered job repeats no effect.
 */
export async function scrapePage(data: JobData<'scrape', 'scrape-page'>, ctx: JobContext, deps: ScrapeDeps): Promise<ScrapeResult> {
  // Two independent reads, at once: each is a round trip, and a crawl makes
  // about ten a page (kbflow issue 6, crawl throughput).
  const [task, before] = await Promise.all([deps.tasks.get(data.taskId), deps.tasks.pageStatus(data.taskId, data.url)]);
  if (!task) throw new PermanentError('task_not_found', `task ${data.taskId} does not exist`);
  if (before !== 'discovered' && before !== 'scraped') return { outcome: 'already-done' };
  // A cancelled task's queued pages are dropped here, at pickup: no fetch,
  // and the job completes, so no attempt is spent and its flow parent can
  // settle the task `cancelled`.
  if (task.state === 'cancelling' || task.state === 'cancelled') {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'cancelled', { error: 'cancelled before it was fetched' });
    return { outcome: 'cancelled' };
  }
  // Only the first pages of a task find it queued; the update is a no-op after that.
  if (task.state === 'queued') await deps.tasks.markRunning(data.taskId);

  let routed: RoutedPage;
  try {
    routed = await deps.fetchPage(data.url, data.engine as Engine);
  } catch (error) {
    const final = isPermanent(error) || ctx.job.attemptsMade + 1 >= (ctx.job.opts.attempts ?? 1);
    if (!final) throw error;
    await deps.tasks.setPageStatus(data.taskId, data.url, 'failed', { error: serializeError(error) });
    if (isPermanent(error)) return { outcome: 'failed', error: serializeError(error) };
    throw error;
  }

  const parent = ctx.job.parent?.id ? { id: ctx.job.parent.id, queue: ctx.job.parent.queueKey } : undefined;
  const links = await enqueueLinks(data, routed, task, parent, deps);

  const { page, extracted } = routed;
  const bytes = bodyBytes(page);
  if (!extracted) {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { error: `not a page (${page.contentType || 'no content type'})`, bytes });
    return { outcome: 'skipped', reason: 'not-html', links };
  }
  // Documents are keyed by the URL the user or the crawl asked for, so a
  // redirect does not create a second document on the next crawl.
  const chunks = chunkMarkdown(stripLinkTargets(extracted.markdown));
  const stored = await deps.documents.store({
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
  });
  if (!stored.changed) {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'skipped', { documentId: stored.documentId, change: 'unchanged', bytes });
    return { outcome: 'skipped', reason: 'unchanged', documentId: stored.documentId, links };
  }
  await deps.tasks.setPageStatus(data.taskId, data.url, 'scraped', { documentId: stored.documentId, change: stored.replaced ? 'changed' : 'new', bytes });

  const batches: FlowNode[] = [];
  for (let i = 0; i < stored.pendingChunkIds.length; i += EMBED_BATCH_SIZE) {
    const chunkIds = stored.pendingChunkIds.slice(i, i + EMBED_BATCH_SIZE);
    batches.push({
      queue: QueueName.embed,
      name: 'embed-chunks',
      data: { tenantId: data.tenantId, documentId: stored.documentId, chunkIds, correlationId: ctx.correlationId },
      opts: { priority: Priority.NORMAL, jobId: jobIdOf('embed', stored.documentId, ...chunkIds), ignoreDependencyOnFailure: true },
    });
  }
  await deps.producer.enqueueFlow({
    queue: QueueName.aggregate,
    name: 'complete-document',
    data: {
      tenantId: data.tenantId,
      taskId: data.taskId,
      documentId: stored.documentId,
      url: data.url,
      replacesPrevious: stored.replaced,
      correlationId: ctx.correlationId,
    },
    opts: { priority: Priority.NORMAL, jobId: jobIdOf('doc', data.taskId, stored.documentId), parent, ignoreDependencyOnFailure: true },
    children: batches,
  });
  ctx.log.debug({ url: data.url, chunks: chunks.length, pending: stored.pendingChunkIds.length }, 'page stored');
  return { outcome: 'stored', documentId: stored.documentId, chunks: chunks.length, pendingChunks: stored.pendingChunkIds.length, links };
}

async function enqueueLinks(
  data: JobData<'scrape', 'scrape-page'>,
  routed: RoutedPage,
  task: { params: { maxDepth: number; maxPages: number; origins: string[]; includePaths?: string[]; excludePaths?: string[] } },
  parent: { id: string; queue: string } | undefined,
  deps: ScrapeDeps,
): Promise<number> {
  if (!routed.extracted || data.depth >= task.params.maxDepth) return 0;
  const patterns = compilePathPatterns(task.params.includePaths, task.params.excludePaths);
  const candidates = crawlableLinks(
    routed.extracted.links.map((l) => normalizeUrl(l)).filter((l): l is string => l !== null),
    data.url,
    task.params.origins,
  ).filter((link) => pathAllowed(new URL(link), patterns));
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

/** The body bytes a fetch read (the document's bytes, or the page's HTML as UTF-8), for the run report. */
function bodyBytes(page: RoutedPage['page']): number {
  return page.document ? page.document.bytes.byteLength : Buffer.byteLength(page.html, 'utf8');
}
