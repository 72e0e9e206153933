import { VECTOR_STORE_DEFAULTS } from '@kbflow/config';
import { VectorStoreError } from './errors.ts';
import { LanceDbVectorStore } from './lancedb-vector-store.ts';
import { QdrantVectorStore } from './qdrant-vector-store.ts';
import type { VectorStore, VectorStoreOptions } from './types.ts';

/** The default collection (Qdrant) and table (LanceDB) name. */
export const DEFAULT_VECTOR_COLLECTION = VECTOR_STORE_DEFAULTS.collection;

/** Builds the configured adapter. Nothing connects until the first call on it. */
export function createVectorStore(opts: VectorStoreOptions): VectorStore {
  switch (opts.kind) {
    case 'lancedb':
      return new LanceDbVectorStore({
        dir: opts.lancedbDir,
        table: opts.collection,
        indexMinRows: opts.indexMinRows,
        indexCacheMb: opts.indexCacheMb,
        metadataCacheMb: opts.metadataCacheMb,
      });
    case 'qdrant':
      if (!opts.qdrantUrl) {
        throw new VectorStoreError('vector_invalid_input', 'the qdrant vector store needs a url');
      }
      return new QdrantVectorStore({
        url: opts.qdrantUrl,
        ...(opts.qdrantApiKey ? { apiKey: opts.qdrantApiKey } : {}),
        collection: opts.collection,
      });
    default: {
      const never: never = opts.kind;
      throw new VectorStoreError('vector_invalid_input', `unknown vector store ${String(never)}`);
    }
  }
}
