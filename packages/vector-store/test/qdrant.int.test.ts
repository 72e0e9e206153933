import { afterAll, describe, it } from '@jest/globals';
import { QdrantClient } from '@qdrant/js-client-rest';
import { QdrantVectorStore } from '../src/index.ts';
import { runVectorStoreContract } from './vector-store.contract.ts';

// Test files are the one place besides env.ts that may read process.env: it chooses the target.
const QDRANT_URL = process.env.QDRANT_URL;
const QDRANT_API_KEY = process.env.QDRANT_API_KEY;

if (QDRANT_URL) {
  const created = new Set<string>();
  const prefix = `kbflow_test_${process.pid}_${Date.now().toString(36)}`;

  runVectorStoreContract('QdrantVectorStore', (collection) => {
    const name = `${prefix}_${collection}`;
    created.add(name);
    return new QdrantVectorStore({ url: QDRANT_URL, collection: name, ...(QDRANT_API_KEY ? { apiKey: QDRANT_API_KEY } : {}) });
  });

  afterAll(async () => {
    const client = new QdrantClient({ url: QDRANT_URL, checkCompatibility: false, ...(QDRANT_API_KEY ? { apiKey: QDRANT_API_KEY } : {}) });
    await Promise.all([...created].map((name) => client.deleteCollection(name).catch(() => undefined)));
  });
} else {
  // describe.skip on purpose: no Qdrant server can run on this machine (not in
  // Debian, not on npm, no Docker engine; see ENVIRONMENT.md). Without
  // QDRANT_URL the adapter's requests are checked against the OpenAPI spec
  // instead (qdrant-openapi.int.test.ts); set QDRANT_URL to run this suite.
  describe.skip('QdrantVectorStore contract: skipped, QDRANT_URL is not set (the requests are checked against the Qdrant OpenAPI spec instead)', () => {
    it('runs the VectorStore contract against a real Qdrant', () => undefined);
  });
}
