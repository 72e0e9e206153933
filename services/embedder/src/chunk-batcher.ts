import type { DocumentRepository } from '@kbflow/db';
import { activeTraceCarrier, withSpan, type TraceCarrier } from '@kbflow/observability';
import type { Embedder } from '@kbflow/embeddings';
import type { ContentType, VectorRecord, VectorStore } from '@kbflow/vector-store';

/** What one `embed-chunks` job asks for, and what it gets back. */
interface Request {
  tenantId: string;
  chunkIds: string[];
  /** The submitting job's trace context: the batch's work belongs to its jobs' traces, not to whichever job drained it. */
  trace: TraceCarrier;
  resolve: (result: ChunkBatchResult) => void;
  reject: (error: unknown) => void;
}

export interface ChunkBatchResult {
  embedded: number;
  missing: number;
}

export interface ChunkBatcherDeps {
  documents: Pick<DocumentRepository, 'chunksForEmbedding' | 'markChunksIndexed'>;
  embedder: Embedder;
  vectors: Pick<VectorStore, 'upsert'>;
  /** Resolves once the collection exists with the embedder's dimensions. */
  ready: () => Promise<void>;
}

/** Texts per embedder call (one provider request each) unless KBFLOW_EMBED_REQUEST_SIZE says otherwise. */
export const EMBED_BATCH = 128;
/** Default cap of one batch, in chunks (KBFLOW_EMBED_BATCH_MAX_CHUNKS). */
const DEFAULT_MAX_CHUNKS = 1024;

/**
 * Embeds the chunks of many `embed-chunks` jobs together: their rows are
 * read in one query per tenant, their texts embedded in provider calls of
 * up to 128 (KBFLOW_EMBED_REQUEST_SIZE) that span documents, their vectors written in ONE vector-store
 * upsert and marked indexed in one statement. A crawl's embed jobs carry
 * one page's chunks each (a few to 32): written one job at a time, each was
 * a LanceDB commit of its own (a fragment, and commit conflicts between
 * concurrent jobs), and 1,199 fragments after one crawl.
 *
 * Batching is adaptive, never a timer: a batch starts as soon as nothing
 * is being written, and jobs that arrive meanwhile wait for the next one,
 * so batches grow with the load and a lone job waits for nobody.
 *
 * Each job stays active until its own chunks are durable: a process killed
 * mid-batch leaves every job of the batch to come back through the stalled
 * check, and the upsert (by chunk id) makes the repeat harmless. A batch
 * that fails is retried job by job, so one job's bad data fails that job
 * alone, not the others it was batched with.
 */
export class ChunkBatcher {
  readonly #deps: ChunkBatcherDeps;
  readonly #maxChunks: number;
  readonly #requestSize: number;
  #queue: Request[] = [];
  #writing = false;

  constructor(deps: ChunkBatcherDeps, opts: { maxChunks?: number; requestSize?: number } = {}) {
    this.#deps = deps;
    this.#maxChunks = opts.maxChunks ?? DEFAULT_MAX_CHUNKS;
    this.#requestSize = opts.requestSize ?? EMBED_BATCH;
  }

  /** Resolves once these chunks' vectors are written and the chunks marked indexed. */
  submit(tenantId: string, chunkIds: string[]): Promise<ChunkBatchResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ tenantId, chunkIds, trace: activeTraceCarrier(), resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#writing || this.#queue.length === 0) return;
    const batch: Request[] = [];
    let chunks = 0;
    while (this.#queue.length > 0 && (batch.length === 0 || chunks + this.#queue[0]!.chunkIds.length <= this.#maxChunks)) {
      const next = this.#queue.shift()!;
      batch.push(next);
      chunks += next.chunkIds.length;
    }
    this.#writing = true;
    // With tracing on, one span for the batch: a child of its first job, linked to the others.
    const span = {
      parent: batch[0]!.trace,
      links: batch.slice(1).map((r) => r.trace),
      attributes: { 'kbflow.batch.jobs': batch.length, 'kbflow.batch.chunks': chunks },
    };
    void withSpan('embed chunk batch', span, () => this.#write(batch)).finally(() => {
      this.#writing = false;
      this.#drain();
    });
  }

  async #write(batch: Request[]): Promise<void> {
    try {
      const results = await this.#embedAll(batch);
      batch.forEach((request, i) => request.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One at a time: the failure may belong to one job only.
      for (const request of batch) {
        try {
          request.resolve((await this.#embedAll([request]))[0]!);
        } catch (own) {
          request.reject(own);
        }
      }
    }
  }

  async #embedAll(batch: Request[]): Promise<ChunkBatchResult[]> {
    const byTenant = new Map<string, string[]>();
    for (const r of batch) byTenant.set(r.tenantId, [...(byTenant.get(r.tenantId) ?? []), ...r.chunkIds]);
    const rows = (
      await Promise.all(
        [...byTenant].map(async ([tenantId, ids]) =>
          (await this.#deps.documents.chunksForEmbedding(tenantId, [...new Set(ids)])).map((c) => ({ ...c, tenantId })),
        ),
      )
    ).flat();
    const found = new Set(rows.map((r) => `${r.tenantId}/${r.id}`));
    const results = batch.map((r) => {
      const embedded = r.chunkIds.filter((id) => found.has(`${r.tenantId}/${id}`)).length;
      return { embedded, missing: r.chunkIds.length - embedded };
    });
    // Chunks deleted since their job was queued (the page changed again) are
    // simply gone; their replacement has its own job.
    if (rows.length === 0) return results;
    await this.#deps.ready();
    const vectors: number[][] = [];
    for (let i = 0; i < rows.length; i += this.#requestSize) {
      const slice = rows.slice(i, i + this.#requestSize);
      vectors.push(
        ...(await this.#deps.embedder.embed(
          slice.map((c) => c.text),
          { tenantId: slice.map((c) => c.tenantId) },
        )),
      );
    }
    const records: VectorRecord[] = rows.map((c, i) => ({
      id: c.id,
      vector: vectors[i]!,
      payload: { tenantId: c.tenantId, knowledgeBaseId: c.knowledgeBaseId, documentId: c.documentId, contentType: c.contentType as ContentType },
    }));
    await this.#deps.vectors.upsert(records);
    await this.#deps.documents.markChunksIndexed(rows.map((c) => c.id));
    return results;
  }
}
