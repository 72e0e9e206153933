import { withSpan, type SpanAttributes } from '@kbflow/observability';
import { Histogram, type Registry } from 'prom-client';
import type { IdSlice, VectorFilter, VectorHit, VectorRecord, VectorStore } from './types.ts';

const histograms = new WeakMap<Registry, Histogram<'store' | 'operation' | 'outcome'>>();

function histogramOf(registry: Registry): Histogram<'store' | 'operation' | 'outcome'> {
  let h = histograms.get(registry);
  if (!h) {
    h = new Histogram({
      name: 'kbflow_vector_operation_duration_seconds',
      help: 'Vector store operations (upsert, search, delete, ...) by store, operation and outcome.',
      labelNames: ['store', 'operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    histograms.set(registry, h);
  }
  return h;
}

/**
 * Wraps a vector store so every call is timed into
 * `kbflow_vector_operation_duration_seconds` and, with tracing on, is a
 * span (`vector-store search`, ...) of the job that made it.
 */
export function instrumentVectorStore(inner: VectorStore, registry: Registry): VectorStore {
  const histogram = histogramOf(registry);
  const timed = <T>(operation: string, fn: () => Promise<T>, attributes: SpanAttributes = {}): Promise<T> =>
    withSpan(
      `vector-store ${operation}`,
      { kind: 'client', attributes: { 'db.system.name': inner.kind, 'db.operation.name': operation, ...attributes } },
      async () => {
        const end = histogram.startTimer({ store: inner.kind, operation });
        try {
          const result = await fn();
          end({ outcome: 'ok' });
          return result;
        } catch (error) {
          end({ outcome: 'error' });
          throw error;
        }
      },
    );
  return {
    kind: inner.kind,
    ensureCollection: (dimensions: number) => timed('ensure_collection', () => inner.ensureCollection(dimensions)),
    compact: () => timed('compact', () => inner.compact()),
    upsert: (records: VectorRecord[]) => timed('upsert', () => inner.upsert(records), { 'kbflow.vector.records': records.length }),
    search: (vector: number[], filter: VectorFilter, limit: number): Promise<VectorHit[]> =>
      timed('search', () => inner.search(vector, filter, limit), { 'kbflow.vector.limit': limit }),
    deleteByIds: (ids: string[]) => timed('delete', () => inner.deleteByIds(ids), { 'kbflow.vector.records': ids.length }),
    deleteDocumentVectors: (tenantId: string, documentId: string, keepIds?: string[]) =>
      timed('delete', () => inner.deleteDocumentVectors(tenantId, documentId, keepIds)),
    deleteTenantVectors: (tenantId: string) => timed('delete', () => inner.deleteTenantVectors(tenantId)),
    count: (filter?: Partial<VectorFilter>) => timed('count', () => inner.count(filter)),
    listIds: (filter: VectorFilter, slice?: IdSlice) => timed('list_ids', () => inner.listIds(filter, slice)),
    health: () => inner.health(),
    close: () => inner.close(),
  };
}
