import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DocumentRepository, RecordRepository } from '@kbflow/db';
import { HashingEmbedder, type ChatModel } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, QueueName, someHandlers } from '@kbflow/queues';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Worker } from 'bullmq';
import { answerQuery, searchChunks } from '../../../services/aggregator/src/processors/query.processor.ts';
import { embedDocuments } from '../../../services/embedder/src/processors/embed-documents.processor.ts';
import { embedTexts } from '../../../services/embedder/src/processors/embed-texts.processor.ts';
import type { TestApi } from '../../../services/api/test/support/test-api.ts';

export interface InProcessWorkers {
  /** The chat model answers use; undefined (the default): extractive. */
  setChat: (chat: ChatModel | undefined) => void;
  close: () => Promise<void>;
}

/**
 * The aggregator's query processors and the embedder's processors for
 * records and texts, as workers in this process on the API's Redis,
 * PostgreSQL and a LanceDB folder of their own: what /v1/query, /v1/search,
 * /v1/embed and /v1/records need, without starting service processes.
 */
export async function startInProcessWorkers(api: TestApi, label: string): Promise<InProcessWorkers> {
  const lanceDir = await mkdtemp(path.join(tmpdir(), `kbflow-${label}-lance-`));
  const vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'kbflow_chunks' });
  const embedder = new HashingEmbedder();
  let chat: ChatModel | undefined;
  const common = {
    connection: api.redis,
    producer: api.producer,
    log: createLogger(`${label}-workers`, 'silent'),
    registry: createMetrics(`${label}-workers`).registry,
  };
  const documents = new DocumentRepository(api.db);
  const queryDeps = {
    documents,
    vectors,
    embedder,
    get chat() {
      return chat;
    },
    streams: { redis: api.redis, prefix: api.producer.prefix, cancelPollMs: 50 },
  };
  const embedDeps = { documents, records: new RecordRepository(api.db), embedder, vectors, ready: () => vectors.ensureCollection(embedder.dimensions) };
  const workers: Worker[] = [
    createWorker({
      ...common,
      queue: QueueName.query,
      concurrency: 4,
      handlers: { 'answer-query': (data, ctx) => answerQuery(data, ctx, queryDeps), 'search-chunks': (data, ctx) => searchChunks(data, ctx, queryDeps) },
    }),
    createWorker({
      ...common,
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, {
        'embed-documents': (data, ctx) => embedDocuments(data, ctx, embedDeps),
        'embed-texts': (data) => embedTexts(data, { embedder }),
      }),
    }),
  ];
  return {
    setChat: (next) => {
      chat = next;
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await vectors.close();
      await rm(lanceDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `read` gives a value. */
export async function until<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
