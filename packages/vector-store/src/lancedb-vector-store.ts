import { VECTOR_STORE_DEFAULTS } from '@kbflow/config';
import * as lancedb from '@lancedb/lancedb';
import { errorMessage, VectorStoreError } from './errors.ts';
import { FILTER_INDEX_COLUMNS, lanceSchema, PAYLOAD_COLUMNS, toHit, vectorDimensionsOf, type LanceRow } from './lancedb-schema.ts';
import { filterToSql, sliceToSql, sqlColumn, sqlIdList } from './lancedb-sql.ts';
import { isLanceCommitConflict, retryWithJitter } from './retry.ts';
import type { IdSlice, VectorFilter, VectorHit, VectorRecord, VectorStore } from './types.ts';
import { assertCollectionName, assertDimensions, assertLimit, assertVector, chunk, normalizeFilter, normalizeIds, prepareRecords } from './validation.ts';

/** Ids per `IN (...)` predicate: keeps SQL texts and their plans small. */
const DELETE_BATCH = 1000;

/** Default of `KBFLOW_VECTOR_INDEX_MIN_ROWS`: below it a flat scan is fast enough and an index not worth training. */

/**
 * Query settings for the IVF_PQ index, from a measurement on the benchmark's
 * 100,036 chunks (512-dim offline embedder, one tenant, 100 questions;
 * kbflow issue 6): PQ codes alone found 58 % of the flat scan's top 10 at
 * any nprobes (10, 20, 40 gave the same), so the recall comes from
 * re-ranking `limit × REFINE_FACTOR` PQ candidates on their full vectors:
 * refine 5 → recall@10 0.961, 10 → 0.980, 20 → 0.994 (recall@60 0.915),
 * at 15-25 ms instead of the flat scan's 160-340 ms on the loaded 2-core box.
 */
const INDEX_NPROBES = 20;
const REFINE_FACTOR = 20;

/** Lance retries conflicts ten times inside each call; these wrap whole calls. */
const CONFLICT_RETRY = { attempts: 6, baseDelayMs: 50, maxDelayMs: 2000 };

export interface LanceDbVectorStoreOptions {
  /** Directory (or object-store URI) shared by every process of the machine. */
  dir: string;
  table: string;
  /** Tries per write when another process's commit conflicts with ours (default 6). */
  conflictAttempts?: number;
  /** Rows from which {@link LanceDbVectorStore.compact} builds an ANN index (default `VECTOR_STORE_DEFAULTS.indexMinRows`). */
  indexMinRows?: number;
  /** Bound of this process's cache of index partitions, MB (default `VECTOR_STORE_DEFAULTS.indexCacheMb`). */
  indexCacheMb?: number;
  /** Bound of this process's cache of file metadata and schemas, MB (default `VECTOR_STORE_DEFAULTS.metadataCacheMb`). */
  metadataCacheMb?: number;
}

/**
 * Lance caches index partitions (its default bound is 6 GB) and file
 * metadata (1 GB) in native memory, outside V8's heap, per process. At the
 * benchmark's 100,000 chunks (384 dimensions) the IVF_PQ index is a few MB and
 * the bound changed neither resident memory nor latency in an A/B benchmark run;
 * it is a guard for larger tables, whose index would otherwise stay resident
 * in every aggregator and embedder replica up to Lance's bounds.
 */
const MB = 1024n * 1024n;

/**
 * The embedded vector store: one LanceDB table in a directory that several
 * processes share (embedder replicas write, the aggregator reads and
 * deletes). Every read sees other processes' commits
 * (`readConsistencyInterval: 0`); writes that collide with another process's
 * commit are retried with jittered backoff.
 *
 * Each upsert or delete commits a new version and small appends leave many
 * small fragments, which slows scans over time. Compacting them
 * ({@link LanceDbVectorStore.optimize}) is a maintenance job, not something
 * the write path does.
 */
export class LanceDbVectorStore implements VectorStore {
  readonly kind = 'lancedb' as const;

  readonly #dir: string;
  readonly #tableName: string;
  readonly #conflictAttempts: number;
  readonly #indexMinRows: number;
  readonly #session: lancedb.Session;
  #connection: Promise<lancedb.Connection> | undefined;
  #table: lancedb.Table | undefined;
  #dimensions: number | undefined;
  #closed = false;
  readonly #running = new Set<Promise<unknown>>();

  constructor(opts: LanceDbVectorStoreOptions) {
    if (typeof opts.dir !== 'string' || opts.dir.length === 0) {
      throw new VectorStoreError('vector_invalid_input', 'LanceDB dir must be a non-empty path');
    }
    assertCollectionName(opts.table);
    this.#dir = opts.dir;
    this.#tableName = opts.table;
    this.#conflictAttempts = opts.conflictAttempts ?? CONFLICT_RETRY.attempts;
    this.#indexMinRows = opts.indexMinRows ?? VECTOR_STORE_DEFAULTS.indexMinRows;
    this.#session = new lancedb.Session(
      BigInt(opts.indexCacheMb ?? VECTOR_STORE_DEFAULTS.indexCacheMb) * MB,
      BigInt(opts.metadataCacheMb ?? VECTOR_STORE_DEFAULTS.metadataCacheMb) * MB,
    );
  }

  /** {@inheritDoc VectorStore.ensureCollection} */
  async ensureCollection(dimensions: number): Promise<void> {
    assertDimensions(dimensions);
    await this.#track(async () => {
      const db = await this.#connect();
      let table: lancedb.Table;
      try {
        // existOk makes concurrent creators race-free: the loser opens the winner's table.
        table = await db.createEmptyTable(this.#tableName, lanceSchema(dimensions), { mode: 'create', existOk: true });
      } catch (error) {
        // An existing table with another schema (another dimension) lands here; open it to say which.
        table = await db.openTable(this.#tableName).catch(() => {
          throw backendError('could not create the LanceDB table', error);
        });
      }
      const existing = vectorDimensionsOf(await table.schema());
      if (existing !== dimensions) {
        table.close();
        throw new VectorStoreError(
          'vector_dimension_mismatch',
          `LanceDB table ${this.#tableName} holds ${existing ?? 'unknown'}-dimensional vectors, not ${dimensions}`,
        );
      }
      this.#adopt(table, existing);
    });
  }

  /** {@inheritDoc VectorStore.upsert} */
  async upsert(records: VectorRecord[]): Promise<void> {
    await this.#track(async () => {
      if (records.length === 0) return;
      const table = await this.#existingTable();
      if (!table) throw missingTable(this.#tableName);
      const rows = prepareRecords(records, this.#dimensions).map((r) => ({ id: r.id, ...r.payload, vector: r.vector }));
      await this.#write(() => table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
    });
  }

  /** {@inheritDoc VectorStore.search} */
  async search(vector: number[], filter: VectorFilter, limit: number): Promise<VectorHit[]> {
    assertLimit(limit);
    assertVector(vector, undefined, 'query vector');
    const where = filterToSql(normalizeFilter(filter, true))!;
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return [];
      assertVector(vector, this.#dimensions, 'query vector');
      // No postfilter(): LanceDB prefilters by default, so the tenant filter
      // applies before the top-k cut and never starves the result, with an
      // index too: a 12-row tenant whose vectors lie far from the query's
      // partitions still gets all its rows, even with a single probe
      // (test/lancedb-ann-index.int.test.ts). Rows added since the index
      // was last updated are scanned flat and merged in. Without an index
      // nprobes and refineFactor are ignored.
      const rows = (await table
        .vectorSearch(vector)
        .column('vector')
        .distanceType('cosine')
        .nprobes(INDEX_NPROBES)
        .refineFactor(REFINE_FACTOR)
        .where(where)
        .select(['id', ...PAYLOAD_COLUMNS, '_distance'])
        .limit(limit)
        .toArray()) as LanceRow[];
      return rows.map(toHit);
    });
  }

  /** {@inheritDoc VectorStore.deleteByIds} */
  async deleteByIds(ids: string[]): Promise<void> {
    const normalized = normalizeIds(ids);
    await this.#track(async () => {
      if (normalized.length === 0) return;
      const table = await this.#existingTable();
      if (!table) return;
      for (const batch of chunk(normalized, DELETE_BATCH)) {
        await this.#write(() => table.delete(`${sqlColumn('id')} IN ${sqlIdList(batch)}`));
      }
    });
  }

  /** {@inheritDoc VectorStore.deleteDocumentVectors} */
  async deleteDocumentVectors(tenantId: string, documentId: string, keepIds: string[] = []): Promise<number> {
    const where = filterToSql(normalizeFilter({ tenantId, documentId }, true))!;
    const keep = normalizeIds(keepIds);
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return 0;
      const predicate = keep.length > 0 ? `${where} AND ${sqlColumn('id')} NOT IN ${sqlIdList(keep)}` : where;
      const result = await this.#write(() => table.delete(predicate));
      return result.numDeletedRows;
    });
  }

  /** {@inheritDoc VectorStore.deleteTenantVectors} */
  async deleteTenantVectors(tenantId: string): Promise<void> {
    const where = filterToSql(normalizeFilter({ tenantId }, true))!;
    await this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return;
      await this.#write(() => table.delete(where));
    });
  }

  /** {@inheritDoc VectorStore.count} */
  async count(filter: Partial<VectorFilter> = {}): Promise<number> {
    const where = filterToSql(normalizeFilter(filter, false));
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return 0;
      return table.countRows(where);
    });
  }

  /** {@inheritDoc VectorStore.listIds} */
  async listIds(filter: VectorFilter, slice?: IdSlice): Promise<string[]> {
    const where = filterToSql(normalizeFilter(filter, true))! + (slice === undefined ? '' : ` AND ${sliceToSql(slice)}`);
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return [];
      const rows = (await table.query().where(where).select(['id']).toArray()) as Pick<LanceRow, 'id'>[];
      return rows.map((r) => r.id);
    });
  }

  /** {@inheritDoc VectorStore.health} */
  async health(): Promise<void> {
    await this.#track(async () => {
      try {
        const db = await this.#connect();
        await tableExists(db, this.#tableName);
        // Reads the latest manifest: proves the table's files are readable, not just the directory.
        if (this.#table) await this.#table.countRows();
      } catch (error) {
        throw new VectorStoreError('vector_store_unavailable', `LanceDB at ${this.#dir} is not readable`, { cause: error });
      }
    });
  }

  /**
   * Compacts small fragments into larger files, prunes versions older than
   * `cleanupOlderThan` (Lance's default: 7 days) and brings indices up to
   * date. Run it from the maintenance service, not on the write path: after
   * every ~20 writes or 100k changed rows is Lance's rule of thumb.
   */
  async optimize(opts: { cleanupOlderThan?: Date } = {}): Promise<void> {
    await this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return;
      await this.#write(() => table.optimize(opts.cleanupOlderThan ? { cleanupOlderThan: opts.cleanupOlderThan } : {}));
    });
  }

  /**
   * {@inheritDoc VectorStore.compact}
   * Versions older than a minute are pruned: readers re-check the latest
   * version on every query, so none holds an older one for that long.
   */
  async compact(): Promise<boolean> {
    if (!(await this.#existingTable())) return false;
    await this.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
    await this.ensureVectorIndex();
    return true;
  }

  /**
   * Builds the IVF_PQ cosine index on `vector` once the table holds
   * `indexMinRows` rows and has none (a flat scan of 100,000 512-dim
   * vectors took 160 ms; the index answers in about 20). IVF_PQ with
   * refinement reached recall@10 0.994 against the flat scan. Later rows
   * are folded into it by `optimize()` (compact runs it first), which
   * assigns them to the trained partitions without retraining; until then
   * they are scanned flat at query time. Returns true when it built one.
   * Building takes about a minute at 100,000 rows on two cores, which is
   * why it belongs to the maintenance job and not to the write path.
   *
   * With it come bitmap indices on the prefilter's columns (`tenantId`,
   * `knowledgeBaseId`), also on tables indexed before they existed: without
   * them every search evaluated the filter on all 100,000 rows' strings,
   * 30-40 % of a search (vector search p50 32 -> 24 ms on the benchmark's
   * index, 17 KB each). Few distinct values per column is what a bitmap
   * index is for; `optimize()` keeps them current like the vector index.
   *
   * IVF_HNSW_SQ was measured too (kbflow issue 6): recall@10 1.0 at 13 ms,
   * but its index is 58 MB at 100,000 384-dim vectors against IVF_PQ's
   * 3.3 MB, resident in every process that searches (and over the default
   * index cache bound, where it thrashed: 130 ms). On a machine whose
   * services are held to 300 MB that is the wrong trade.
   */
  async ensureVectorIndex(): Promise<boolean> {
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return false;
      const indices = await table.listIndices();
      const hasVectorIndex = indices.some((i) => i.columns.includes('vector'));
      if (!hasVectorIndex && (await table.countRows()) < this.#indexMinRows) return false;
      for (const column of FILTER_INDEX_COLUMNS) {
        if (indices.some((i) => i.columns.includes(column))) continue;
        await this.#write(() => table.createIndex(column, { config: lancedb.Index.bitmap(), replace: false }));
      }
      if (hasVectorIndex) return false;
      await this.#write(() => table.createIndex('vector', { config: lancedb.Index.ivfPq({ distanceType: 'cosine' }), replace: false }));
      return true;
    });
  }

  /** The columns of this store's scalar indices, beside the vector index. */
  async scalarIndexColumns(): Promise<string[]> {
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return [];
      return (await table.listIndices())
        .filter((i) => !i.columns.includes('vector'))
        .flatMap((i) => i.columns)
        .sort();
    });
  }

  /** What this store's LanceDB caches hold now (index partitions and file metadata; bounded by the options). */
  cacheStats(): { bytes: number; items: number } {
    return { bytes: Number(this.#session.sizeBytes()), items: this.#session.approxNumItems() };
  }

  /** The vector index's indexed and not yet indexed rows, or undefined without one. */
  async vectorIndexStats(): Promise<{ indexedRows: number; unindexedRows: number; type: string } | undefined> {
    return this.#track(async () => {
      const table = await this.#existingTable();
      if (!table) return undefined;
      const index = (await table.listIndices()).find((i) => i.columns.includes('vector'));
      const stats = index ? await table.indexStats(index.name) : undefined;
      return stats ? { indexedRows: stats.numIndexedRows, unindexedRows: stats.numUnindexedRows, type: stats.indexType } : undefined;
    });
  }

  /** {@inheritDoc VectorStore.close} */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#running]);
    this.#table?.close();
    this.#table = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) (await connection.catch(() => undefined))?.close();
  }

  #track<T>(op: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new VectorStoreError('vector_store_closed', 'the vector store is closed'));
    // Native errors become VectorStoreErrors here, once, so callers can classify them.
    const running = op().catch((error: unknown) => {
      throw error instanceof VectorStoreError ? error : backendError('LanceDB operation failed', error);
    });
    this.#running.add(running);
    const forget = () => this.#running.delete(running);
    void running.then(forget, forget);
    return running;
  }

  #connect(): Promise<lancedb.Connection> {
    if (!this.#connection) {
      // readConsistencyInterval 0: every read checks for commits by other
      // processes, so the aggregator sees what an embedder just wrote.
      this.#connection = lancedb.connect(this.#dir, { readConsistencyInterval: 0, session: this.#session });
      void this.#connection.catch(() => {
        this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  /** The table if it exists (another process may have created it since the last look). */
  async #existingTable(): Promise<lancedb.Table | undefined> {
    if (this.#table) return this.#table;
    const db = await this.#connect();
    if (!(await tableExists(db, this.#tableName))) return undefined;
    const table = await db.openTable(this.#tableName);
    this.#adopt(table, vectorDimensionsOf(await table.schema()));
    return this.#table;
  }

  #adopt(table: lancedb.Table, dimensions: number | undefined): void {
    if (this.#table && this.#table !== table) {
      table.close();
      return;
    }
    this.#table = table;
    this.#dimensions = dimensions;
  }

  #write<T>(op: () => Promise<T>): Promise<T> {
    return retryWithJitter(op, {
      ...CONFLICT_RETRY,
      attempts: this.#conflictAttempts,
      isRetryable: isLanceCommitConflict,
    }).catch((error: unknown) => {
      if (isLanceCommitConflict(error)) {
        throw new VectorStoreError('vector_write_conflict', 'LanceDB write kept conflicting with other writers', { cause: error });
      }
      throw error;
    });
  }
}

async function tableExists(db: lancedb.Connection, name: string): Promise<boolean> {
  let pageToken: string | undefined;
  do {
    const page = await db.listTables(pageToken ? { pageToken } : {});
    if (page.tables.includes(name)) return true;
    pageToken = page.pageToken;
  } while (pageToken);
  return false;
}

function missingTable(name: string): VectorStoreError {
  return new VectorStoreError('vector_collection_missing', `LanceDB table ${name} does not exist: call ensureCollection first`);
}

function backendError(message: string, cause: unknown): VectorStoreError {
  return new VectorStoreError('vector_store_failed', `${message}: ${errorMessage(cause)}`, { cause });
}
