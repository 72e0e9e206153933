export {
  CONTENT_TYPES,
  type ContentType,
  type VectorFilter,
  type VectorHit,
  type VectorPayload,
  type VectorRecord,
  type VectorStore,
  type VectorStoreOptions,
} from './types.ts';
export { VectorStoreError, type VectorStoreErrorCode } from './errors.ts';
export { createVectorStore, DEFAULT_VECTOR_COLLECTION } from './create-vector-store.ts';
export { LanceDbVectorStore, type LanceDbVectorStoreOptions } from './lancedb-vector-store.ts';
export { QdrantVectorStore, toQdrantFilter, type QdrantVectorStoreOptions } from './qdrant-vector-store.ts';
export { MAX_SEARCH_LIMIT } from './validation.ts';
export { ID_SLICES, idSliceOf, type IdSlice } from './types.ts';
export { instrumentVectorStore } from './instrumented-vector-store.ts';
export { guardVectorStore, type Guard } from './guarded-vector-store.ts';
