import type { ChunkToEmbed, RecordRepository } from '@kbflow/db';
import type { Embedder } from '@kbflow/embeddings';
import type { JobContext, JobData } from '@kbflow/queues';
import type { ContentType, VectorRecord, VectorStore } from '@kbflow/vector-store';
import { weightedArticleVector } from '../domain/article-weighting.ts';

export interface EmbedDocumentsDeps {
  records: RecordRepository;
  embedder: Embedder;
  vectors: VectorStore;
  /** The service's shared vector writer (see CoalescingUpsert); the store itself when absent. */
  upserts?: Pick<VectorStore, 'upsert'>;
  /** Resolves once the collection exists with the embedder's dimensions. */
  ready: () => Promise<void>;
  /** Texts per embedder call (KBFLOW_EMBED_REQUEST_SIZE). */
  requestSize?: number;
}

/** Texts per embedder call (one provider request each) by default. */
const EMBED_BATCH = 128;
/** Vectors per upsert: each upsert is one write (one LanceDB commit), so fewer and larger is better. */
const UPSERT_BATCH = 2000;

async function embedAll(embedder: Embedder, texts: string[], tenantId: string, size = EMBED_BATCH): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += size) out.push(...(await embedder.embed(texts.slice(i, i + size), { tenantId })));
  return out;
}

/**
 * Vectors for the chunks: the chunk's own embedding, or with `article`
 * weighting its mix with the document's title and summary (each embedded
 * once per distinct text).
 */
async function vectorsFor(chunks: ChunkToEmbed[], weighting: 'none' | 'article', embedder: Embedder, tenantId: string, size?: number): Promise<number[][]> {
  if (weighting === 'none')
    return embedAll(
      embedder,
      chunks.map((c) => c.text),
      tenantId,
      size,
    );
  const fields = [...new Set(chunks.flatMap((c) => [c.title, c.summary ?? ''].filter((t) => t.trim() !== '')))];
  const chunkVectors = await embedAll(
    embedder,
    chunks.map((c) => c.text),
    tenantId,
    size,
  );
  const fieldVectors = await embedAll(embedder, fields, tenantId, size);
  const byText = new Map(fields.map((t, i) => [t, fieldVectors[i]!]));
  const of = (text: string | null) => (text && text.trim() !== '' ? byText.get(text) : undefined);
  return chunks.map((c, i) => weightedArticleVector(chunkVectors[i]!, of(c.title), of(c.summary)));
}

/**
 * Embeds the documents of an ingest batch (records, cases, articles): loads
 * their chunks without a vector in one query, embeds them in batches,
 * upserts the vectors, removes the vectors of chunks their new versions
 * dropped, and marks chunks and complete documents indexed in set-based
 * SQL. Redelivery repeats upserts of the same ids and finds fewer chunks to
 * do: never a duplicate vector.
 */
export async function embedDocuments(
  data: JobData<'embed', 'embed-documents'>,
  ctx: JobContext,
  deps: EmbedDocumentsDeps,
): Promise<{ chunks: number; documentsIndexed: number; staleRemoved: number }> {
  // Article vectors depend on document fields, so every chunk is redone, not only the new ones.
  const chunks = await deps.records.chunksToEmbed(data.tenantId, data.documentIds, { all: data.weighting === 'article' });
  if (chunks.length > 0 || data.staleChunkIds.length > 0) await deps.ready();
  if (chunks.length > 0) {
    const vectors = await vectorsFor(chunks, data.weighting, deps.embedder, data.tenantId, deps.requestSize);
    const records: VectorRecord[] = chunks.map((c, i) => ({
      id: c.id,
      vector: vectors[i]!,
      payload: { tenantId: data.tenantId, knowledgeBaseId: c.knowledgeBaseId, documentId: c.documentId, contentType: c.contentType as ContentType },
    }));
    const writer = deps.upserts ?? deps.vectors;
    for (let i = 0; i < records.length; i += UPSERT_BATCH) await writer.upsert(records.slice(i, i + UPSERT_BATCH));
  }
  if (data.staleChunkIds.length > 0) await deps.vectors.deleteByIds(data.staleChunkIds);
  const documentsIndexed = await deps.records.markIndexed(
    data.tenantId,
    chunks.map((c) => c.id),
    data.documentIds,
  );
  ctx.log.debug({ documents: data.documentIds.length, chunks: chunks.length, documentsIndexed }, 'documents embedded');
  return { chunks: chunks.length, documentsIndexed, staleRemoved: data.staleChunkIds.length };
}
