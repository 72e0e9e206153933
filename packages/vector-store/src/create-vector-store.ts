import { VectorStoreError } from './errors.ts';
import { LanceDbVectorStore } from './lancedb-vector-store.ts';
import { QdrantVectorStore } from './qdrant-vector-store.ts';
import type { VectorStore, VectorStoreConfig } from './types.ts';

/** The default collection (Qdrant) and table (LanceDB) name. */
export const DEFAULT_VECTOR_COLLECTION = 'kbflow_chunks';

/** Builds the configured adapter. Nothing connects until the first call on it. */
export function createVectorStore(cfg: VectorStoreConfig): VectorStore {
  switch (cfg.KBFLOW_VECTOR_STORE) {
    case 'lancedb':
      return new LanceDbVectorStore({
        dir: cfg.KBFLOW_LANCEDB_DIR,
        table: cfg.KBFLOW_VECTOR_COLLECTION,
        ...(cfg.KBFLOW_VECTOR_INDEX_MIN_ROWS !== undefined ? { indexMinRows: cfg.KBFLOW_VECTOR_INDEX_MIN_ROWS } : {}),
        ...(cfg.KBFLOW_LANCEDB_INDEX_CACHE_MB !== undefined ? { indexCacheMb: cfg.KBFLOW_LANCEDB_INDEX_CACHE_MB } : {}),
        ...(cfg.KBFLOW_LANCEDB_METADATA_CACHE_MB !== undefined ? { metadataCacheMb: cfg.KBFLOW_LANCEDB_METADATA_CACHE_MB } : {}),
      });
    case 'qdrant':
      if (!cfg.QDRANT_URL) {
        throw new VectorStoreError('vector_invalid_input', 'QDRANT_URL is required when KBFLOW_VECTOR_STORE=qdrant');
      }
      return new QdrantVectorStore({
        url: cfg.QDRANT_URL,
        ...(cfg.QDRANT_API_KEY ? { apiKey: cfg.QDRANT_API_KEY } : {}),
        collection: cfg.KBFLOW_VECTOR_COLLECTION,
      });
    default: {
      const never: never = cfg.KBFLOW_VECTOR_STORE;
      throw new VectorStoreError('vector_invalid_input', `unknown KBFLOW_VECTOR_STORE ${String(never)}`);
    }
  }
}
