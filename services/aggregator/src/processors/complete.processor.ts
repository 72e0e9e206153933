import type { DocumentRepository, TaskRepository } from '@kbflow/db';
import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
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
export async function completeDocument(data: JobData<'aggregate', 'complete-document'>, ctx: JobContext, deps: CompleteDeps): Promise<{ complete: boolean; staleRemoved?: number }> {
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
 * Runs when every page of a crawl (and its document flow) has finished, and
 * asks maintenance to compact the vector store: a crawl leaves many small
 * writes behind. The deduplication id folds a burst of finishing crawls into
 * one compaction.
 */
export async function completeCrawl(data: JobData<'aggregate', 'complete-crawl'>, ctx: JobContext, deps: Pick<CompleteDeps, 'tasks'> & { producer: JobProducer }) {
  const result = await deps.tasks.finish(data.taskId);
  ctx.log.info({ taskId: data.taskId, state: result.state, ...result.progress }, 'task finished');
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
