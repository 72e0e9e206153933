import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordRepository, TaskRepository } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, QueueName, someHandlers } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { completeIngest } from '../../../aggregator/src/processors/complete-ingest.processor.ts';
import { deleteVectors } from '../../../embedder/src/processors/delete-vectors.processor.ts';
import { embedDocuments } from '../../../embedder/src/processors/embed-documents.processor.ts';
import { DEV_KEY, startTestApi, type TestApi } from './test-api.ts';

/**
 * POST /v1/records end to end inside one process, as records.int.test.ts
 * and records-sync.int.test.ts run it: the real API over HTTP, the real
 * embed-documents / delete-vectors / complete-ingest processors on real
 * BullMQ workers, PostgreSQL and a LanceDB directory.
 */
export interface RecordsPipeline {
  api: TestApi;
  vectors: LanceDbVectorStore;
  /** The tenant of DEV_KEY. */
  tenantId: string;
  /** Stops the workers, the vector store and the API, and removes the LanceDB directory. */
  close(): Promise<void>;
}

/** Starts a {@link RecordsPipeline}; `label` names its API, queues and LanceDB directory. */
export async function startRecordsPipeline(label: string, recordsMaxBytes: number): Promise<RecordsPipeline> {
  const api = await startTestApi({ label, recordsMaxBytes });
  const lanceDir = await mkdtemp(path.join(tmpdir(), `kbflow-${label}-`));
  const vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  const embedder = new HashingEmbedder();
  const log = createLogger(`${label}-test`, 'silent');
  const registry = createMetrics(`${label}-test`).registry;
  const records = new RecordRepository(api.db);
  const tasks = new TaskRepository(api.db);
  const deps = { records, embedder, vectors, ready: () => vectors.ensureCollection(embedder.dimensions) };
  const common = { connection: api.redis, producer: api.producer, log, registry, concurrency: 2 };
  const workers = [
    createWorker({
      ...common,
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, {
        'embed-documents': (data, ctx) => embedDocuments(data, ctx, deps),
        'delete-vectors': (data, ctx) => deleteVectors(data, ctx, deps),
      }),
    }),
    createWorker({
      ...common,
      queue: QueueName.aggregate,
      handlers: someHandlers(QueueName.aggregate, { 'complete-ingest': (data, ctx) => completeIngest(data, ctx, { tasks, producer: api.producer }) }),
    }),
  ];
  const tenantId = (await api.tenants.authenticate(DEV_KEY))!.tenantId;
  return {
    api,
    vectors,
    tenantId,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await vectors.close();
      await api.close();
      await rm(lanceDir, { recursive: true, force: true });
    },
  };
}
