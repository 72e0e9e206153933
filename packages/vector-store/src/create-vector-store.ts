import { z } from 'zod';
import { VectorStoreError } from './errors.ts';
import { LanceDbVectorStore } from './lancedb-vector-store.ts';
import { QdrantVectorStore } from './qdrant-vector-store.ts';
import type { VectorStore, VectorStoreConfig } from './types.ts';

/** The default collection (Qdrant) and table (LanceDB) name. */
export const DEFAULT_VECTOR_COLLECTION = 'kbflow_chunks';

/**
 * The vector-store keys for a service's zod `env.ts`, spread next to
 * `commonEnvShape`. Whether QDRANT_URL is required depends on
 * KBFLOW_VECTOR_STORE, which {@link createVectorStore} checks.
 */
export const vectorStoreEnvShape = {
  KBFLOW_VECTOR_STORE: z.enum(['lancedb', 'qdrant']).default('lancedb'),
  KBFLOW_LANCEDB_DIR: z.string().min(1).default('./data/lancedb'),
  QDRANT_URL: z.url({ protocol: /^https?$/ }).optional(),
  QDRANT_API_KEY: z.string().min(1).optional(),
  KBFLOW_VECTOR_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/)
    .default(DEFAULT_VECTOR_COLLECTION),
};

/** Builds the configured adapter. Nothing connects until the first call on it. */
export function createVectorStore(cfg: VectorStoreConfig): VectorStore {
  switch (cfg.KBFLOW_VECTOR_STORE) {
    case 'lancedb':
      return new LanceDbVectorStore({ dir: cfg.KBFLOW_LANCEDB_DIR, table: cfg.KBFLOW_VECTOR_COLLECTION });
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
