import { readFileSync } from 'node:fs';
import { expect } from '@jest/globals';
import { extractPage, normalizeUrl } from '@kbflow/extraction';
import { QueueName } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { crawlableLinks } from '../../../services/scraper/src/domain/link-filter.ts';
import { reachablePages } from '../../e2e/reachable-pages.ts';
import { CORPUS, sleep, type CrawlRequest, type FaultStack, type TaskJson } from './fault-stack.ts';

/** Errors `TaskRepository.finish` writes on pages whose work never got through. */
export const LOST_WORK_ERRORS = ['not processed', 'embedding did not complete'];
/** Queues whose jobs a crawl creates; once it is done none may be left or failed. */
const CRAWL_QUEUES = [QueueName.scrape, QueueName.embed, QueueName.aggregate] as const;
const QUEUE_SETTLE_MS = 15_000;

export interface NothingLostSummary {
  /** True when the crawl covered the whole reachable set (compared page for page). */
  exact: boolean;
  pages: number;
  embedded: number;
  failed: number;
  documents: number;
  chunks: number;
  vectors: number;
}

/**
 * Asserts that a finished crawl lost and duplicated nothing:
 * - the task completed, and the pages it recorded are exactly the pages an
 *   independent walk of the corpus expects (the whole reachable set when
 *   `maxPages` does not cut it; otherwise exactly `maxPages` pages, each a
 *   link of its recorded parent page within the depth limit);
 * - every HTML page was embedded, every missing one failed with its own error,
 *   and no page was given up as "not processed" or "embedding did not complete";
 * - one document per embedded page (distinct URLs equal rows), each indexed
 *   and referenced by its page;
 * - every chunk indexed, and the vector store holds exactly one vector per
 *   chunk, under the chunk's id;
 * - all of it in the task's knowledge base, of the task's tenant (which
 *   has no other data; other tenants' may sit beside it);
 * - no crawl job is left in Redis, none failed for good, no dead letter.
 */
export async function assertNothingLost(stack: FaultStack, taskId: string, task: TaskJson, crawl: CrawlRequest): Promise<NothingLostSummary> {
  expect({ state: task.state, error: task.error ?? null }).toEqual({ state: 'completed', error: null });

  const base = stack.site.url;
  const seed = stack.seedUrl(crawl);
  const expected = reachablePages(CORPUS, base, seed, crawl.maxDepth);
  const reachable = new Set([...expected.pages, ...expected.missing, ...expected.notHtml]);
  const exact = reachable.size <= crawl.maxPages;

  const pages = await stack.db.taskPage.findMany({
    where: { taskId },
    select: { url: true, depth: true, parentUrl: true, status: true, documentId: true, error: true },
  });
  const byUrl = new Map(pages.map((p) => [p.url, p]));
  expect(byUrl.size).toBe(pages.length);

  // Which pages: the whole reachable set, or a budget-cut part of it that
  // only follows real links.
  if (exact) {
    expect(difference(byUrl.keys(), reachable)).toEqual([]);
    expect(difference(reachable, byUrl.keys())).toEqual([]);
  } else {
    expect(pages.length).toBe(crawl.maxPages);
    expect(difference(byUrl.keys(), reachable)).toEqual([]);
    const linksOf = memoLinks(base);
    const badEdges = pages.filter((p) => {
      if (p.url === seed) return p.depth !== 0;
      const parent = p.parentUrl ? byUrl.get(p.parentUrl) : undefined;
      return !parent || parent.depth !== p.depth - 1 || p.depth > crawl.maxDepth || !linksOf(parent.url).has(p.url);
    });
    expect(badEdges.map((p) => `${p.url} (depth ${p.depth}, parent ${p.parentUrl})`)).toEqual([]);
  }

  // What became of each page.
  const wrongStatus = pages.filter((p) => {
    if (expected.pages.has(p.url)) return p.status !== 'embedded' || p.documentId === null;
    if (expected.missing.has(p.url)) return p.status !== 'failed' || LOST_WORK_ERRORS.includes(p.error ?? '');
    return p.status !== 'skipped';
  });
  expect(wrongStatus.map((p) => `${p.url}: ${p.status}${p.error ? ` (${p.error})` : ''}`)).toEqual([]);
  const embedded = pages.filter((p) => p.status === 'embedded');
  const failed = pages.filter((p) => p.status === 'failed');
  expect(task.progress).toEqual({
    discovered: pages.length,
    scraped: embedded.length,
    skipped: pages.filter((p) => p.status === 'skipped').length,
    embedded: embedded.length,
    failed: failed.length,
    // A first crawl into a fresh database: nothing to find unchanged or to remove.
    notModified: 0,
    unchangedByHash: 0,
    deletedGone: 0,
    deletedUnreached: 0,
    cancelled: 0,
  });

  // One document per embedded page, in the task's knowledge base (another
  // tenant's data may be beside it; tenantsApart checks that it stays apart).
  const { tenantId, knowledgeBaseId } = await stack.db.task.findUniqueOrThrow({ where: { id: taskId }, select: { tenantId: true, knowledgeBaseId: true } });
  const documents = await stack.db.document.findMany({ where: { knowledgeBaseId }, select: { id: true, url: true, status: true, tenantId: true } });
  expect(new Set(documents.map((d) => d.url)).size).toBe(documents.length);
  expect(sorted(documents.map((d) => d.url))).toEqual(sorted(embedded.map((p) => p.url)));
  const docByUrl = new Map(documents.map((d) => [d.url, d]));
  expect(embedded.filter((p) => docByUrl.get(p.url)?.id !== p.documentId).map((p) => p.url)).toEqual([]);
  expect(documents.filter((d) => d.status !== 'indexed').map((d) => `${d.url}: ${d.status}`)).toEqual([]);

  // Every chunk indexed, one vector per chunk.
  const chunks = await stack.db.chunk.findMany({ where: { document: { knowledgeBaseId } }, select: { id: true, indexed: true, documentId: true } });
  expect(chunks.filter((c) => !c.indexed).map((c) => c.id)).toEqual([]);
  const docsWithChunks = new Set(chunks.map((c) => c.documentId));
  expect(documents.filter((d) => !docsWithChunks.has(d.id)).map((d) => d.url)).toEqual([]);
  expect(documents.filter((d) => d.tenantId !== tenantId).map((d) => d.url)).toEqual([]);
  // The tenant's vectors are listed whole: the crawl's tenant has no other data.
  expect(await stack.db.chunk.count({ where: { tenantId } })).toBe(chunks.length);
  const ids = await vectorIds(stack, tenantId);
  const chunkIds = new Set(chunks.map((c) => c.id));
  expect({ vectors: ids.length, distinct: new Set(ids).size }).toEqual({ vectors: chunks.length, distinct: chunks.length });
  expect(ids.filter((id) => !chunkIds.has(id))).toEqual([]);

  await assertQueuesSettled(stack);

  return {
    exact,
    pages: pages.length,
    embedded: embedded.length,
    failed: failed.length,
    documents: documents.length,
    chunks: chunks.length,
    vectors: ids.length,
  };
}

/**
 * No crawl job left waiting, running or failed in Redis and nothing
 * dead-lettered. The crawl's parent job may still be finishing when the task
 * reads completed, so this waits a little for the queues to settle.
 */
export async function assertQueuesSettled(stack: FaultStack): Promise<void> {
  const deadline = Date.now() + QUEUE_SETTLE_MS;
  let leftover: Record<string, Record<string, number>>;
  for (;;) {
    leftover = {};
    for (const queue of CRAWL_QUEUES) {
      const counts = await stack.producer.queue(queue).getJobCounts('wait', 'prioritized', 'delayed', 'active', 'waiting-children', 'failed');
      const nonzero = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
      if (Object.keys(nonzero).length > 0) leftover[queue] = nonzero;
    }
    if (Object.keys(leftover).length === 0 || Date.now() > deadline) break;
    await sleep(250);
  }
  expect(leftover).toEqual({});
  const deadLetters = await stack.producer.queue(QueueName.deadLetter).getJobs(['wait', 'prioritized', 'delayed', 'completed', 'failed'], 0, 20);
  expect(deadLetters.map((j) => `${String(j.data?.queue)}/${String(j.data?.jobName)}: ${String(j.data?.error)}`)).toEqual([]);
}

/** The ids of a tenant's vectors in the stack's LanceDB store. */
export async function vectorIds(stack: FaultStack, tenantId: string): Promise<string[]> {
  const store = new LanceDbVectorStore({ dir: stack.lanceDir, table: stack.env.KBFLOW_VECTOR_COLLECTION ?? 'kbflow_chunks' });
  try {
    return await store.listIds({ tenantId });
  } finally {
    await store.close();
  }
}

/** The crawlable links of a corpus page, read from its file. */
function memoLinks(base: string): (url: string) => Set<string> {
  const cache = new Map<string, Set<string>>();
  const origin = new URL(base).origin;
  return (url) => {
    let links = cache.get(url);
    if (!links) {
      const html = readFileSync(CORPUS + decodeURIComponent(new URL(url).pathname), 'utf8');
      const normalized = extractPage(html, url)
        .links.map((l) => normalizeUrl(l))
        .filter((l): l is string => l !== null);
      links = new Set(crawlableLinks(normalized, url, [origin]));
      cache.set(url, links);
    }
    return links;
  };
}

function difference(a: Iterable<string>, b: Iterable<string>): string[] {
  const exclude = new Set(b);
  return sorted([...a].filter((x) => !exclude.has(x)));
}

function sorted(values: string[]): string[] {
  return [...values].sort();
}
