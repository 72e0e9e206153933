import type { DocumentRepository } from '@kbflow/db';
import type { Embedder } from '@kbflow/embeddings';
import type { JobContext, JobData } from '@kbflow/queues';
import type { ContentType, VectorStore } from '@kbflow/vector-store';
import type { ChunkBatcher } from '../chunk-batcher.ts';

export interface EmbedDeps {
  documents: DocumentRepository;
  embedder: Embedder;
  vectors: VectorStore;
  /** Resolves once the collection exists with the embedder's dimensions. */
  ready: () => Promise<void>;
}

/**
 * Embeds a job's chunks and upserts their vectors under the chunk ids
 * (derived from content), then marks the chunks indexed. With a `batcher`
 * (the service's), the work is done together with the other `embed-chunks`
 * jobs running at the time (see {@link ChunkBatcher}); without, alone.
 * Re-delivery repeats an upsert of the same ids: never a duplicate vector.
 */
export async function embedChunks(
  data: JobData<'embed', 'embed-chunks'>,
  ctx: JobContext,
  deps: EmbedDeps & { batcher?: ChunkBatcher },
): Promise<{ embedded: number; missing: number }> {
  if (deps.batcher) {
    const result = await deps.batcher.submit(data.tenantId, data.chunkIds);
    ctx.log.debug({ documentId: data.documentId, chunks: result.embedded }, 'chunks embedded');
    return result;
  }
  const chunks = await deps.documents.chunksForEmbedding(data.tenantId, data.chunkIds);
  // Chunks deleted since the job was queued (the page changed again) are
  // simply gone; their replacement has its own job.
  if (chunks.length === 0) return { embedded: 0, missing: data.chunkIds.length };
  await deps.ready();
  const vectors = await deps.embedder.embed(
    chunks.map((c) => c.text),
    { tenantId: data.tenantId },
  );
  await deps.vectors.upsert(
    chunks.map((c, i) => ({
      id: c.id,
      vector: vectors[i]!,
      payload: { tenantId: data.tenantId, knowledgeBaseId: c.knowledgeBaseId, documentId: c.documentId, contentType: c.contentType as ContentType },
    })),
  );
  await deps.documents.markChunksIndexed(chunks.map((c) => c.id));
  ctx.log.debug({ documentId: data.documentId, chunks: chunks.length }, 'chunks embedded');
  return { embedded: chunks.length, missing: data.chunkIds.length - chunks.length };
}
