import { createDb, DocumentRepository } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { DEFAULT_VECTOR_COLLECTION, LanceDbVectorStore } from '@kbflow/vector-store';
import { latencySummary, type LatencySummary } from '../stats.ts';

/** How deep each list is read: a hybrid query for 5 citations fuses lists about this deep. */
const DEPTH = 60;

/**
 * Times the two halves of retrieval on their own, in this process, on the
 * same database and LanceDB table the services use: the vector search
 * (LanceDB, tenant and knowledge-base prefilter) and the full-text search
 * (PostgreSQL). Tells which one a slow query is waiting for.
 */
export async function probeRetrieval(opts: {
  databaseUrl: string;
  lanceDir: string;
  tenantId: string;
  knowledgeBaseId: string;
  questions: string[];
}): Promise<{ vector: LatencySummary; keyword: LatencySummary; depth: number }> {
  const db = createDb(opts.databaseUrl);
  const documents = new DocumentRepository(db);
  const store = new LanceDbVectorStore({ dir: opts.lanceDir, table: DEFAULT_VECTOR_COLLECTION });
  const embedder = new HashingEmbedder();
  const scope = { tenantId: opts.tenantId, knowledgeBaseId: opts.knowledgeBaseId };
  const vector: number[] = [];
  const keyword: number[] = [];
  try {
    const vectors = await embedder.embed(opts.questions);
    for (let i = 0; i < opts.questions.length; i++) {
      let t = performance.now();
      await store.search(vectors[i]!, scope, DEPTH);
      vector.push(performance.now() - t);
      t = performance.now();
      await documents.keywordSearch(scope, opts.questions[i]!, DEPTH);
      keyword.push(performance.now() - t);
    }
  } finally {
    await store.close();
    await db.$disconnect();
  }
  return { vector: latencySummary(vector), keyword: latencySummary(keyword), depth: DEPTH };
}
