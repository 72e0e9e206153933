import type { JobContext, JobData } from '@kbflow/queues';
import type { VectorStore } from '@kbflow/vector-store';

/**
 * Removes the vectors of deleted documents: the listed chunk ids at once,
 * then anything still filed under each document (a vector whose chunk id
 * was never recorded, e.g. after a failed stale-vector removal).
 */
export async function deleteVectors(
  data: JobData<'embed', 'delete-vectors'>,
  ctx: JobContext,
  deps: { vectors: Pick<VectorStore, 'deleteByIds' | 'deleteDocumentVectors'> },
): Promise<{ chunks: number; documents: number }> {
  if (data.chunkIds.length > 0) await deps.vectors.deleteByIds(data.chunkIds);
  for (const documentId of data.documentIds) await deps.vectors.deleteDocumentVectors(data.tenantId, documentId);
  ctx.log.debug({ chunks: data.chunkIds.length, documents: data.documentIds.length }, 'vectors deleted');
  return { chunks: data.chunkIds.length, documents: data.documentIds.length };
}
