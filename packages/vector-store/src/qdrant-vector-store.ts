import { QdrantClient, QdrantClientResourceExhaustedError, QdrantClientTimeoutError } from '@qdrant/js-client-rest';
import type { Schemas } from '@qdrant/js-client-rest';
import { errorMessage, VectorStoreError } from './errors.ts';
import {
  idSliceOf,
  type ContentType,
  type IdSlice,
  type VectorFilter,
  type VectorHit,
  type VectorPayload,
  type VectorRecord,
  type VectorStore,
} from './types.ts';
import { assertCollectionName, assertDimensions, assertLimit, assertVector, chunk, normalizeFilter, normalizeIds, prepareRecords } from './validation.ts';

/** Points per upsert request: a 384-d batch of 256 is ~1 MB of JSON, well under Qdrant's 32 MB limit. */
const UPSERT_BATCH = 256;
const DELETE_BATCH = 1000;
const SCROLL_PAGE = 1000;
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Keyword indexes on every filtered field. tenantId is marked `is_tenant` so
 * Qdrant keeps each tenant's points together on disk; every query filters on it.
 */
const PAYLOAD_INDEXES: readonly { field: keyof VectorPayload; isTenant: boolean }[] = [
  { field: 'tenantId', isTenant: true },
  { field: 'knowledgeBaseId', isTenant: false },
  { field: 'documentId', isTenant: false },
  { field: 'contentType', isTenant: false },
];

export interface QdrantVectorStoreOptions {
  url: string;
  apiKey?: string;
  collection: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/**
 * The production vector store: one Qdrant collection with cosine distance,
 * tenant-scoped by a payload filter on every read. Search uses the query API
 * (`points/query`); Qdrant 1.19 removed `points/search`.
 */
export class QdrantVectorStore implements VectorStore {
  readonly kind = 'qdrant' as const;

  readonly #client: QdrantClient;
  readonly #collection: string;
  /** Known once ensureCollection ran; lets bad vectors fail here instead of as a 400 from Qdrant. */
  #dimensions: number | undefined;
  #closed = false;
  readonly #running = new Set<Promise<unknown>>();

  constructor(opts: QdrantVectorStoreOptions) {
    assertCollectionName(opts.collection);
    this.#collection = opts.collection;
    // checkCompatibility would fire a request from the constructor and
    // console.warn on failure; health() reports reachability instead.
    this.#client = new QdrantClient({
      url: opts.url,
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      checkCompatibility: false,
    });
  }

  /** {@inheritDoc VectorStore.ensureCollection} */
  async ensureCollection(dimensions: number): Promise<void> {
    assertDimensions(dimensions);
    await this.#track(async () => {
      const name = this.#collection;
      if (!(await this.#client.collectionExists(name)).exists) {
        try {
          await this.#client.createCollection(name, { vectors: { size: dimensions, distance: 'Cosine' } });
        } catch (error) {
          // Another process created it first (Qdrant answers 409 or 400 depending on version).
          if (!(await this.#client.collectionExists(name)).exists) throw error;
        }
      }
      const info = await this.#client.getCollection(name);
      const existing = vectorSizeOf(info);
      if (existing !== dimensions) {
        throw new VectorStoreError(
          'vector_dimension_mismatch',
          `Qdrant collection ${name} holds ${existing ?? 'unknown'}-dimensional vectors, not ${dimensions}`,
        );
      }
      for (const { field, isTenant } of PAYLOAD_INDEXES) {
        if (info.payload_schema[field]) continue;
        // Creating an index that already exists is a no-op in Qdrant, so a race here is harmless.
        await this.#client.createPayloadIndex(name, {
          field_name: field,
          field_schema: isTenant ? { type: 'keyword', is_tenant: true } : 'keyword',
          wait: true,
        });
      }
      this.#dimensions = dimensions;
    });
  }

  /** {@inheritDoc VectorStore.upsert} */
  async upsert(records: VectorRecord[]): Promise<void> {
    const prepared = prepareRecords(records, this.#dimensions);
    await this.#track(async () => {
      for (const batch of chunk(prepared, UPSERT_BATCH)) {
        await this.#client.upsert(this.#collection, {
          wait: true,
          points: batch.map((r) => ({ id: r.id, vector: r.vector, payload: { ...r.payload } })),
        });
      }
    });
  }

  /** {@inheritDoc VectorStore.search} */
  async search(vector: number[], filter: VectorFilter, limit: number): Promise<VectorHit[]> {
    assertLimit(limit);
    assertVector(vector, this.#dimensions, 'query vector');
    const qdrantFilter = toQdrantFilter(normalizeFilter(filter, true));
    return this.#track(
      async () => {
        const response = await this.#client.query(this.#collection, {
          query: vector,
          filter: qdrantFilter,
          limit,
          with_payload: true,
          with_vector: false,
        });
        return response.points.map((p) => ({ id: String(p.id), score: p.score, payload: toPayload(p.payload) }));
      },
      () => [],
    );
  }

  /** {@inheritDoc VectorStore.deleteByIds} */
  async deleteByIds(ids: string[]): Promise<void> {
    const normalized = normalizeIds(ids);
    await this.#track(
      async () => {
        for (const batch of chunk(normalized, DELETE_BATCH)) {
          await this.#client.delete(this.#collection, { wait: true, points: batch });
        }
      },
      () => undefined,
    );
  }

  /**
   * {@inheritDoc VectorStore.deleteDocumentVectors}
   * Qdrant does not report how many points a delete-by-filter removed, so
   * this resolves to undefined; counting first would race with writers.
   */
  async deleteDocumentVectors(tenantId: string, documentId: string, keepIds: string[] = []): Promise<undefined> {
    const filter = toQdrantFilter(normalizeFilter({ tenantId, documentId }, true));
    const keep = normalizeIds(keepIds);
    if (keep.length > 0) filter.must_not = [{ has_id: keep }];
    return this.#track(
      async () => {
        await this.#client.delete(this.#collection, { wait: true, filter });
        return undefined;
      },
      () => undefined,
    );
  }

  /** {@inheritDoc VectorStore.deleteTenantVectors} */
  async deleteTenantVectors(tenantId: string): Promise<void> {
    const filter = toQdrantFilter(normalizeFilter({ tenantId }, true));
    await this.#track(
      async () => {
        await this.#client.delete(this.#collection, { wait: true, filter });
      },
      () => undefined,
    );
  }

  /** {@inheritDoc VectorStore.count} */
  async count(filter: Partial<VectorFilter> = {}): Promise<number> {
    const normalized = normalizeFilter(filter, false);
    return this.#track(
      async () => {
        const response = await this.#client.count(this.#collection, {
          ...(Object.keys(normalized).length > 0 ? { filter: toQdrantFilter(normalized) } : {}),
          exact: true,
        });
        return response.count;
      },
      () => 0,
    );
  }

  /** {@inheritDoc VectorStore.listIds} */
  async listIds(filter: VectorFilter, slice?: IdSlice): Promise<string[]> {
    // Qdrant cannot filter on point ids by prefix: every slice scrolls the
    // tenant's points and keeps its own (memory stays a slice's worth).
    const qdrantFilter = toQdrantFilter(normalizeFilter(filter, true));
    return this.#track(
      async () => {
        const ids: string[] = [];
        let offset: Schemas['ExtendedPointId'] | undefined;
        do {
          const page = await this.#client.scroll(this.#collection, {
            filter: qdrantFilter,
            limit: SCROLL_PAGE,
            with_payload: false,
            with_vector: false,
            ...(offset !== undefined ? { offset } : {}),
          });
          for (const point of page.points) {
            const id = String(point.id);
            if (slice === undefined || idSliceOf(id) === slice) ids.push(id);
          }
          // The generated type allows an object for "null"; only an id continues the scroll.
          const next = page.next_page_offset;
          offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
        } while (offset !== undefined);
        return ids;
      },
      () => [],
    );
  }

  /** {@inheritDoc VectorStore.health} */
  async health(): Promise<void> {
    await this.#track(async () => {
      try {
        await this.#client.versionInfo();
      } catch (error) {
        throw new VectorStoreError('vector_store_unavailable', `Qdrant is not reachable: ${errorMessage(error)}`, { cause: error });
      }
    });
  }

  /** {@inheritDoc VectorStore.compact} Qdrant's optimizer merges segments on its own. */
  async compact(): Promise<boolean> {
    return false;
  }

  /** {@inheritDoc VectorStore.close} */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Runs an operation and turns client errors into VectorStoreErrors. Reads
   * and deletes on a collection that does not exist yet (404) answer
   * `onMissingCollection` (nothing there, nothing to delete); other calls
   * fail as `vector_collection_missing`.
   */
  #track<T>(op: () => Promise<T>, onMissingCollection?: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new VectorStoreError('vector_store_closed', 'the vector store is closed'));
    const running = op().catch((error: unknown) => {
      if (error instanceof VectorStoreError) throw error;
      const status = httpStatusOf(error);
      if (status === 404 && onMissingCollection) return onMissingCollection();
      throw toVectorStoreError(error, status, this.#collection);
    });
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    void running.then(forget, forget);
    return running;
  }
}

/** The Qdrant filter for a normalized VectorFilter: one `must` condition per set field. */
export function toQdrantFilter(filter: Partial<VectorFilter>): Schemas['Filter'] {
  const must: Schemas['Condition'][] = [];
  if (filter.tenantId !== undefined) must.push({ key: 'tenantId', match: { value: filter.tenantId } });
  if (filter.knowledgeBaseId !== undefined) must.push({ key: 'knowledgeBaseId', match: { value: filter.knowledgeBaseId } });
  if (filter.documentId !== undefined) must.push({ key: 'documentId', match: { value: filter.documentId } });
  if (filter.contentTypes !== undefined && filter.contentTypes.length > 0) {
    must.push({ key: 'contentType', match: { any: filter.contentTypes } });
  }
  return { must };
}

function vectorSizeOf(info: Schemas['CollectionInfo']): number | undefined {
  const vectors = info.config.params.vectors as { size?: unknown } | undefined;
  return typeof vectors?.size === 'number' ? vectors.size : undefined;
}

/** Our payload back from a point; every point was written through upsert, which validated it. */
function toPayload(payload: Schemas['Payload'] | null | undefined): VectorPayload {
  const p = (payload ?? {}) as Record<string, unknown>;
  return {
    tenantId: String(p.tenantId),
    knowledgeBaseId: String(p.knowledgeBaseId),
    documentId: String(p.documentId),
    contentType: String(p.contentType) as ContentType,
  };
}

/** The HTTP status of a js-client-rest error ("Unexpected Response: 404 (Not Found)..."), if any. */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return status;
  const match = /Unexpected Response: (\d{3})/.exec(errorMessage(error));
  return match ? Number(match[1]) : undefined;
}

function toVectorStoreError(error: unknown, status: number | undefined, collection: string): VectorStoreError {
  const detail = errorMessage(error);
  if (status === 404) {
    return new VectorStoreError('vector_collection_missing', `Qdrant collection ${collection} does not exist: call ensureCollection first`, { cause: error });
  }
  if (error instanceof QdrantClientResourceExhaustedError || error instanceof QdrantClientTimeoutError) {
    return new VectorStoreError('vector_store_unavailable', `Qdrant request failed: ${detail}`, { cause: error });
  }
  if (status === undefined || status === 429 || status >= 500) {
    // No status: the request never got an answer (refused, reset, DNS).
    return new VectorStoreError('vector_store_unavailable', `Qdrant request failed: ${detail}`, { cause: error });
  }
  // 400/422: Qdrant rejected the request itself; sending it again cannot help.
  return new VectorStoreError('vector_store_failed', `Qdrant rejected the request: ${detail}`, { cause: error, retryable: false });
}
