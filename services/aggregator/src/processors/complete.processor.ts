import { compilePathPatterns, pathAllowed } from '@kbflow/extraction';
import { crawlScopePrefixes, type DocumentRepository, type TaskRepository } from '@kbflow/db';
import { emitWebhookEvent, Priority, QueueName, type JobContext, type JobData, type JobProducer, type WebhookEventSource } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';

export interface CompleteDeps {
  tasks: TaskRepository;
  documents: DocumentRepository;
  vectors: VectorStore;
}

/**
 * Runs when every embed batch of a changed document has finished: marks the
 * document indexed, removes vectors of chunks the new version no longer has,
 * and records the page as embedded (or failed when a batch gave up).
 */
export async function completeDocument(
  data: JobData<'aggregate', 'complete-document'>,
  ctx: JobContext,
  deps: CompleteDeps,
): Promise<{ complete: boolean; staleRemoved?: number }> {
  const doc = await deps.documents.completeDocument(data.documentId);
  if (!doc) {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'failed', { error: 'document disappeared before it was indexed' });
    return { complete: false };
  }
  if (!doc.complete) {
    await deps.tasks.setPageStatus(data.taskId, data.url, 'failed', { documentId: data.documentId, error: 'some chunks could not be embedded' });
    ctx.log.warn({ documentId: data.documentId }, 'document incomplete after its embed jobs');
    return { complete: false };
  }
  // A first version has no stale vectors; skipping the delete spares the
  // vector store a write per page on first crawls.
  const staleRemoved = data.replacesPrevious ? await deps.vectors.deleteDocumentVectors(doc.tenantId, data.documentId, doc.chunkIds) : 0;
  await deps.tasks.setPageStatus(data.taskId, data.url, 'embedded', { documentId: data.documentId });
  return { complete: true, staleRemoved: staleRemoved ?? undefined };
}

/**
 * Runs when every page of a crawl (and its document flow) has finished.
 * Before the task reads completed, the crawl's writes are made fast to
 * query: the planner's statistics of the tables it wrote are refreshed
 * (PostgreSQL's autovacuum may be off, as on the build machines, or a
 * minute away: a query planned on empty-table statistics took 1.3 s
 * instead of 3 ms for 10 ids), and the vector store is compacted, which on
 * LanceDB merges the crawl's fragments and builds or updates the vector
 * index (kbflow issue 13: a crawl left 1,199 fragments and queries at p50
 * 305-670 ms until the next scheduled compaction). So the first question
 * after "completed" meets the index the crawl produced at its best, without
 * waiting for a schedule. Maintenance is still asked to compact (LOW,
 * deduplicated): a no-op after this, it keeps the schedule's bookkeeping.
 */
export async function completeCrawl(
  data: JobData<'aggregate', 'complete-crawl'>,
  ctx: JobContext,
  deps: Pick<CompleteDeps, 'tasks' | 'documents' | 'vectors'> & { producer: JobProducer; webhooks: WebhookEventSource },
) {
  // Before the task reads completed, so that a client seeing "completed" no
  // longer finds the pages the crawl pruned.
  const pruned = await pruneUnreached(data, ctx, deps);
  // A crawl that wrote no chunk and removed nothing (an unchanged recrawl:
  // 304s and equal hashes) left the index as it was: nothing to analyze or
  // compact, and skipping both keeps such a recrawl cheap (docs/recrawls.md).
  const before = await deps.tasks.progress(data.taskId);
  const wrote = before.scraped + before.deletedGone > 0 || (pruned !== undefined && 'deleted' in pruned && pruned.deleted > 0);
  if (wrote) {
    const started = performance.now();
    await deps.documents.refreshStatistics();
    const analyzedMs = Math.round(performance.now() - started);
    // A vector store that is down (its breaker open) must not keep a finished
    // crawl from reading completed: the compaction asked of maintenance below
    // catches up once it is back, and queries fall back to keyword search
    // meanwhile.
    const compacted = await deps.vectors.compact().catch((error: unknown) => {
      ctx.log.warn({ taskId: data.taskId, err: error }, 'vector store compaction after the crawl failed');
      return false;
    });
    ctx.log.info({ taskId: data.taskId, analyzedMs, compacted, compactMs: Math.round(performance.now() - started) - analyzedMs }, 'crawl index prepared');
  }
  const result = await deps.tasks.finish(data.taskId);
  ctx.log.info({ taskId: data.taskId, state: result.state, ...result.progress }, 'task finished');
  // A cancelled run ends with run.completed (state and stopReason say
  // cancelled: docs/webhooks.md). Asked again by a redelivered job: the
  // event's job id dedupes it.
  await emitWebhookEvent(deps, data.taskId, result.state === 'failed' ? 'run.failed' : 'run.completed', ctx.correlationId);
  if (result.progress.embedded > 0) {
    await deps.producer.enqueue(
      QueueName.maintenance,
      'compact-vector-store',
      { reason: `task ${data.taskId} finished`, correlationId: ctx.correlationId },
      { priority: Priority.LOW, deduplication: { id: 'compact-vector-store' } },
    );
  }
  return result;
}

/** Chunk ids per delete-vectors job (the catalog's cap). */
const CHUNKS_PER_DELETE_JOB = 20_000;

/**
 * deleteUnreached: when the crawl asked for it and reached everything it
 * could ({@link TaskRepository.incompleteReason}), removes the knowledge
 * base's pages within the crawl's scope that it did not reach, with their
 * chunks, then their vectors. The vectors go here, directly, so that they
 * are gone when the task reads completed; with the vector store down they
 * are handed to the embedder's delete-vectors job instead (and whatever
 * still slips through, the vectorization sweep removes: vectors without a
 * row). Skipped, the reason is recorded on the task (`pruneSkipped`).
 */
async function pruneUnreached(
  data: JobData<'aggregate', 'complete-crawl'>,
  ctx: JobContext,
  deps: Pick<CompleteDeps, 'tasks' | 'documents' | 'vectors'> & { producer: JobProducer },
): Promise<{ deleted: number } | { skipped: string } | undefined> {
  const task = await deps.tasks.get(data.taskId);
  // A redelivered job whose task already finished has nothing left to prune.
  if (!task?.params.deleteUnreached || (task.state !== 'queued' && task.state !== 'running')) return undefined;
  const reason = await deps.tasks.incompleteReason(data.taskId);
  if (reason) {
    await deps.tasks.recordPrune(data.taskId, { skipped: reason });
    ctx.log.info({ taskId: data.taskId, reason }, 'unreached pages kept: the crawl did not finish completely');
    return { skipped: reason };
  }
  const patterns = compilePathPatterns(task.params.includePaths, task.params.excludePaths);
  const removed = await deps.documents.deleteUnreached(data.taskId, task.knowledgeBaseId, crawlScopePrefixes(task.params), (url) =>
    pathAllowed(new URL(url), patterns),
  );
  if (removed.documentIds.length > 0) {
    try {
      await deps.vectors.deleteByIds(removed.chunkIds);
    } catch (error) {
      ctx.log.warn({ taskId: data.taskId, err: error }, "vector store unavailable: unreached pages' vectors handed to the embedder");
      const jobs = [];
      for (let i = 0; i < removed.chunkIds.length; i += CHUNKS_PER_DELETE_JOB) {
        jobs.push({
          data: { tenantId: data.tenantId, chunkIds: removed.chunkIds.slice(i, i + CHUNKS_PER_DELETE_JOB), correlationId: ctx.correlationId },
          opts: { priority: Priority.HIGH },
        });
      }
      await deps.producer.enqueueBulk(QueueName.embed, 'delete-vectors', jobs);
    }
  }
  await deps.tasks.recordPrune(data.taskId, { deleted: removed.documentIds.length });
  ctx.log.info({ taskId: data.taskId, documents: removed.documentIds.length, chunks: removed.chunkIds.length }, 'unreached pages removed');
  return { deleted: removed.documentIds.length };
}
