/**
 * Defaults that an env schema and a package's own constructor both need:
 * the schema gives them to services, and a package built directly (a test,
 * the bench) falls back to the same value. Written here once.
 */

/** LanceDB and Qdrant: the collection, when the ANN index is built, and LanceDB's per-process cache bounds. */
export const VECTOR_STORE_DEFAULTS = { collection: 'kbflow_chunks', indexMinRows: 50_000, indexCacheMb: 64, metadataCacheMb: 32 } as const;

/**
 * BullMQ's job lock and stalled-job check, ms: a killed worker's job comes
 * back after lockDuration plus one or two stalledIntervals; 30 s each
 * tolerates event-loop stalls of several seconds.
 */
export const WORKER_LOCK_DEFAULTS = { lockDurationMs: 30_000, stalledIntervalMs: 30_000 } as const;
