import type { IdSlice, VectorFilter, VectorRecord, VectorStore } from './types.ts';

/** Runs a call through a guard (a circuit breaker); the guard decides whether it happens. */
export type Guard = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * Routes every data operation of a vector store through a guard (the
 * vector-store circuit breaker). Health checks bypass it: readiness must see
 * the store itself, not the breaker.
 */
export function guardVectorStore(inner: VectorStore, guard: Guard): VectorStore {
  return {
    kind: inner.kind,
    ensureCollection: (dimensions: number) => guard(() => inner.ensureCollection(dimensions)),
    compact: () => guard(() => inner.compact()),
    upsert: (records: VectorRecord[]) => guard(() => inner.upsert(records)),
    search: (vector: number[], filter: VectorFilter, limit: number) => guard(() => inner.search(vector, filter, limit)),
    deleteByIds: (ids: string[]) => guard(() => inner.deleteByIds(ids)),
    deleteDocumentVectors: (tenantId: string, documentId: string, keepIds?: string[]) =>
      guard(() => inner.deleteDocumentVectors(tenantId, documentId, keepIds)),
    deleteTenantVectors: (tenantId: string) => guard(() => inner.deleteTenantVectors(tenantId)),
    count: (filter?: Partial<VectorFilter>) => guard(() => inner.count(filter)),
    listIds: (filter: VectorFilter, slice?: IdSlice) => guard(() => inner.listIds(filter, slice)),
    health: () => inner.health(),
    close: () => inner.close(),
  };
}
