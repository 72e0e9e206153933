/** What a vector was cut from: a crawled page, an ingested record, a support case, a knowledge article. */
export type ContentType = 'page' | 'record' | 'case' | 'article';

/** Every content type, in a stable order (validation and tests). */
export const CONTENT_TYPES: readonly ContentType[] = ['page', 'record', 'case', 'article'];

/** The metadata stored with each vector; every field is filterable. */
export interface VectorPayload {
  tenantId: string;
  knowledgeBaseId: string;
  documentId: string;
  contentType: ContentType;
}

/** One chunk's embedding. `id` is a UUID (Qdrant accepts only UUIDs or integers as point ids). */
export interface VectorRecord {
  id: string;
  vector: number[];
  payload: VectorPayload;
}

/** Search and listing scope. `tenantId` is mandatory so no query can cross tenants. */
export interface VectorFilter {
  tenantId: string;
  knowledgeBaseId?: string;
  documentId?: string;
  /** Any of these types; undefined or empty means every type. */
  contentTypes?: ContentType[];
}

/** A search result. `score` is the cosine similarity in [-1, 1]; higher is closer. */
export interface VectorHit {
  id: string;
  score: number;
  payload: VectorPayload;
}

/**
 * The one interface the services use for vectors, with an embedded LanceDB
 * adapter (default, one directory shared by the processes of one machine) and
 * a Qdrant adapter (production).
 */
export interface VectorStore {
  readonly kind: 'lancedb' | 'qdrant';
  /**
   * Creates the collection (table) for vectors of `dimensions` if missing.
   * Idempotent and safe when several processes call it at once; throws when
   * the collection exists with another dimension.
   */
  ensureCollection(dimensions: number): Promise<void>;
  /**
   * Merges the small files many writes leave behind so searches stay fast.
   * LanceDB needs it (each commit adds a fragment), and it is where LanceDB
   * builds its ANN index once the table is large enough and folds new rows
   * into it; Qdrant optimizes its segments and keeps its HNSW index itself,
   * so its adapter does nothing and returns false.
   */
  compact(): Promise<boolean>;
  /** Inserts or replaces by id: re-upserting an id never duplicates it. */
  upsert(records: VectorRecord[]): Promise<void>;
  /**
   * The `limit` nearest vectors by cosine similarity, best first, among those
   * matching `filter`. The tenant filter is always applied, before ranking.
   * Returns [] when the collection does not exist yet.
   */
  search(vector: number[], filter: VectorFilter, limit: number): Promise<VectorHit[]>;
  /** Removes these ids; unknown ids are ignored. */
  deleteByIds(ids: string[]): Promise<void>;
  /**
   * Removes a document's vectors except `keepIds` (the stale chunks after a
   * page changed). Returns how many were removed, or undefined when the
   * backend does not report it (Qdrant).
   */
  deleteDocumentVectors(tenantId: string, documentId: string, keepIds?: string[]): Promise<number | undefined>;
  /** Removes every vector of a tenant (tenant purge). Resolves when they are gone. */
  deleteTenantVectors(tenantId: string): Promise<void>;
  /** Exact number of vectors matching the filter (all vectors without one). */
  count(filter?: Partial<VectorFilter>): Promise<number>;
  /**
   * Every id matching the filter, in no particular order (drift checks,
   * tests); with `slice`, only the ids of that {@link IdSlice}, so that a
   * caller comparing all ids with another list holds a sixteenth at a time.
   */
  listIds(filter: VectorFilter, slice?: IdSlice): Promise<string[]>;
  /** Resolves when the store answers; throws a {@link VectorStoreError} otherwise. */
  health(): Promise<void>;
  /** Waits for running operations, then releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** Which vector store to build and where it is (a service's env.ts maps its variables to these). */
export interface VectorStoreOptions {
  kind: 'lancedb' | 'qdrant';
  /** LanceDB only: the directory of its tables. */
  lancedbDir: string;
  /** Qdrant only: required for it. */
  qdrantUrl?: string | undefined;
  qdrantApiKey?: string | undefined;
  /** Collection (Qdrant) or table (LanceDB) name. */
  collection: string;
  /** LanceDB only: rows from which `compact()` builds an ANN index. */
  indexMinRows: number;
  /** LanceDB only: cache bounds per process, MB. */
  indexCacheMb: number;
  metadataCacheMb: number;
}

/**
 * A slice of the id space: the ids whose first character is this hex digit.
 * Vector ids are UUIDs, stored lowercase (both adapters validate and
 * normalize them), so the 16 slices cover every id, each about evenly.
 */
export type IdSlice = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

/** Every slice, together covering every id exactly once. */
export const ID_SLICES: readonly IdSlice[] = '0123456789abcdef'.split('') as IdSlice[];

/** The slice of a (UUID) id. */
export function idSliceOf(id: string): IdSlice {
  return id.charAt(0).toLowerCase() as IdSlice;
}
