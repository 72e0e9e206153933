import type { DocumentRepository, TaskRepository } from '@kbflow/db';
import type { JobContext, JobData } from '@kbflow/queues';
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
  const staleRemoved = await deps.vectors.deleteDocumentVectors(doc.tenantId, data.documentId, doc.chunkIds);
  await deps.tasks.setPageStatus(data.taskId, data.url, 'embedded', { documentId: data.documentId });
  return { complete: true, staleRemoved: staleRemoved ?? undefined };
}

/** Runs when every page of a crawl (and its document flow) has finished. */
export async function completeCrawl(data: JobData<'aggregate', 'complete-crawl'>, ctx: JobContext, deps: Pick<CompleteDeps, 'tasks'>) {
  const result = await deps.tasks.finish(data.taskId);
  ctx.log.info({ taskId: data.taskId, state: result.state, ...result.progress }, 'task finished');
  return result;
}
