import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DocumentRepository, type Db } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, someHandlers, JobProducer, Priority, QueueName, type JobContext, type Redis } from '@kbflow/queues';
import { DependencyBreaker } from '@kbflow/resilience';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import { guardVectorStore, LanceDbVectorStore, type VectorStore } from '@kbflow/vector-store';
import type { Worker } from 'bullmq';
import { answerQuery } from '../../aggregator/src/processors/query.processor.ts';
import { embedChunks } from '../src/processors/embed-chunks.processor.ts';

// The vector store goes away: a real LanceDB store behind a switch that makes
// every call fail like an unreachable server, under the real breaker, with
// the real embed processor on a real queue and real PostgreSQL.
let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let lanceDir: string;
let lance: LanceDbVectorStore;
let breaker: DependencyBreaker;
let worker: Worker;
let vectors: VectorStore;
let down = false;
let tenantId: string;
let knowledgeBaseId: string;
const completed = new Set<string>();

const outage = (inner: VectorStore): VectorStore => {
  const gate = async <T>(call: () => Promise<T>): Promise<T> => {
    if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6333'), { code: 'ECONNREFUSED' });
    return call();
  };
  return guardVectorStore(inner, gate);
};

beforeAll(async () => {
  fixture = await createTenantFixture('outage');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('vs-outage'));
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-outage-'));
  lance = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  const metrics = createMetrics('embedder');
  const log = createLogger('embedder', 'silent');
  breaker = new DependencyBreaker({ name: 'vector-store', failureThreshold: 3, resetTimeoutMs: 1000, registry: metrics.registry, log, service: 'embedder' });
  vectors = guardVectorStore(outage(lance), (call) => breaker.run(call));
  const embedder = new HashingEmbedder();
  await lance.ensureCollection(embedder.dimensions);
  const deps = { documents: new DocumentRepository(db), embedder, vectors, ready: async () => undefined };
  worker = createWorker({
    queue: QueueName.embed,
    handlers: someHandlers(QueueName.embed, { 'embed-chunks': (data, ctx) => embedChunks(data, ctx, deps), 'embed-texts': async () => ({}) }),
    connection: redis,
    producer,
    log,
    registry: metrics.registry,
    concurrency: 1,
  });
  worker.on('completed', (job) => completed.add(String(job.id)));
}, 60_000);

afterAll(async () => {
  await worker.close();
  await breaker.close();
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await lance.close();
  await fixture.close();
  await rm(lanceDir, { recursive: true, force: true });
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('when the vector store is down', () => {
  it('the breaker opens, ingestion waits without losing attempts, queries answer from keyword search, and all resumes', async () => {
    const documents = new DocumentRepository(db);
    const stored = [];
    for (const [i, topic] of [
      'garbage collection in CPython',
      'virtual environments with venv',
      'reading files with open()',
      'list comprehensions',
    ].entries()) {
      stored.push(
        await documents.store({
          tenantId,
          knowledgeBaseId,
          url: `http://docs.local/${i}.html`,
          title: topic,
          markdown: `# ${topic}`,
          contentHash: `hash-${i}`,
          contentType: 'page',
          chunks: [0, 1].map((p) => ({
            position: p,
            heading: topic,
            text: `${topic}\n\nPart ${p} explains ${topic} in detail with examples.`,
            hash: `h-${i}-${p}`,
          })),
        }),
      );
    }

    down = true;
    const jobs = await producer.enqueueBulk(
      QueueName.embed,
      'embed-chunks',
      stored.map((s) => ({ data: { tenantId, documentId: s.documentId, chunkIds: s.pendingChunkIds }, opts: { priority: Priority.NORMAL } })),
    );
    await until(() => breaker.state === 'open', 20_000);
    expect(await producer.queue(QueueName.embed).getRateLimitTtl()).toBeGreaterThan(0);

    const ctx = {
      job: { timestamp: Date.now(), processedOn: Date.now() },
      log: createLogger('aggregator', 'silent'),
      correlationId: 'q',
    } as unknown as JobContext;
    const answer = await answerQuery(
      {
        tenantId,
        knowledgeBaseId,
        query: 'how do I create a virtual environment',
        topK: 3,
        mode: 'hybrid',
        filters: {},
        collapseDuplicates: true,
        diversity: 0,
        stream: false,
      },
      ctx,
      {
        documents,
        embedder: new HashingEmbedder(),
        vectors,
        chat: undefined,
      },
    );
    expect(answer.degraded).toBe('keyword-only');
    expect(answer.citations[0]?.url).toBe('http://docs.local/1.html');

    down = false;
    await until(() => completed.size === jobs.length, 30_000);
    expect(breaker.state).toBe('closed');
    const chunks = await db.chunk.findMany({ select: { id: true, indexed: true } });
    expect(chunks).toHaveLength(8);
    expect(chunks.every((c) => c.indexed)).toBe(true);
    expect(new Set(await lance.listIds({ tenantId }))).toEqual(new Set(chunks.map((c) => c.id)));
    // Only the calls that opened the breaker cost an attempt; none failed for good.
    const attempts = await Promise.all(jobs.map(async (j) => (await producer.queue(QueueName.embed).getJob(j.id!))!.attemptsMade - 1));
    expect(attempts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(await producer.queue(QueueName.deadLetter).count()).toBe(0);
  }, 60_000);
});
