import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, RecordRepository, ScheduleRunRepository, TenantRepository, type Db } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, Priority, priorityClass, QueueName, someHandlers, type Redis } from '@kbflow/queues';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Job, Worker } from 'bullmq';
import type { Registry } from 'prom-client';
import { embedDocuments } from '../../embedder/src/processors/embed-documents.processor.ts';
import { createDriftMetrics } from '../src/drift-metrics.ts';
import { vectorizationSweep, type SweepResult } from '../src/processors/vectorization-sweep.processor.ts';
import { ChunkIndexRepository } from '../src/repositories/chunk-index.repository.ts';
import { recordRuns } from '../src/schedule-runs.ts';

// Drift made on purpose between real PostgreSQL and a real LanceDB store:
// vectors deleted under indexed chunks, vectors without rows in two tenants,
// chunks never indexed. The sweep runs as a real maintenance job, the embed
// jobs it enqueues run through the real embed-documents processor, and a
// second sweep finds nothing left. Work in flight (fresh rows, a running
// task) is left alone.
const HOUR = 3600_000;
const GRACE_MS = 10 * 60_000;

let database: TestDatabase;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let prefix: string;
let lanceDir: string;
let vectors: LanceDbVectorStore;
let registry: Registry;
let sweepWorker: Worker;
let embedWorker: Worker | undefined;
const embedder = new HashingEmbedder();
const log = createLogger('maintenance-test', 'silent');

let tenantA: string;
let tenantB: string;
const docs: Record<string, { id: string; chunkIds: string[] }> = {};
const orphans: string[] = [];

/** A document with `chunks` chunks; `old` rows are older than the grace period. */
async function addDocument(
  name: string,
  tenantId: string,
  opts: { contentType: string; chunks: number; indexed: boolean; vectors: boolean; old: boolean; indexedNow?: boolean; taskId?: string; ids?: string[] },
): Promise<void> {
  const knowledgeBaseId = await new TenantRepository(db).knowledgeBaseId(tenantId, 'default');
  const document = await db.document.create({
    data: {
      tenantId,
      knowledgeBaseId,
      contentType: opts.contentType,
      url: `test://${name}`,
      title: `${name} title`,
      markdown: `${name} body`,
      contentHash: name,
      status: opts.indexed ? 'indexed' : 'indexing',
      ...(opts.taskId ? { taskId: opts.taskId } : {}),
    },
  });
  const chunkIds = Array.from({ length: opts.chunks }, (_, i) => opts.ids?.[i] ?? randomUUID());
  const at = opts.old ? new Date(Date.now() - HOUR) : new Date();
  await db.chunk.createMany({
    data: chunkIds.map((id, position) => ({
      id,
      tenantId,
      documentId: document.id,
      position,
      heading: '',
      text: `${name} chunk ${position} about printers and networks`,
      hash: `${name}-${position}`,
      createdAt: at,
    })),
  });
  if (opts.indexed) {
    await db.indexedChunk.createMany({ data: chunkIds.map((chunkId) => ({ chunkId, tenantId, indexedAt: opts.indexedNow ? new Date() : at })) });
  }
  // Prisma's @updatedAt would stamp now: set the document's age by hand.
  await db.$executeRaw`UPDATE documents SET updated_at = ${at.toISOString()}::timestamptz AT TIME ZONE 'UTC' WHERE id = ${document.id}::uuid`;
  if (opts.vectors) await upsertVectors(tenantId, knowledgeBaseId, document.id, opts.contentType, chunkIds);
  docs[name] = { id: document.id, chunkIds };
}

async function upsertVectors(tenantId: string, knowledgeBaseId: string, documentId: string, contentType: string, ids: string[]): Promise<void> {
  const embedded = await embedder.embed(ids.map((id) => `text of ${id}`));
  await vectors.upsert(
    ids.map((id, i) => ({ id, vector: embedded[i]!, payload: { tenantId, knowledgeBaseId, documentId, contentType: contentType as 'record' } })),
  );
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let sweeps = 0;
/** Runs one sweep as a maintenance job and returns its result. */
async function sweep(): Promise<SweepResult> {
  const job = await producer.enqueue(
    QueueName.maintenance,
    'vectorization-sweep',
    { trigger: 'manual' },
    { priority: Priority.HIGH, jobId: `manual-vectorization-sweep-${++sweeps}` },
  );
  const queue = producer.queue(QueueName.maintenance);
  const done = await until(`sweep ${job.id}`, async () => {
    // The state first, then the job: a job read while still active and then
    // seen completed would have no return value yet.
    const state = await queue.getJobState(String(job.id));
    if (state === 'failed') throw new Error(`sweep failed: ${(await queue.getJob(String(job.id)))?.failedReason}`);
    return state === 'completed' ? await queue.getJob(String(job.id)) : undefined;
  });
  return done.returnvalue as SweepResult;
}

async function driftGauge(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('kbflow_vector_drift')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.kind), v.value]));
}

async function repairs(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('kbflow_vector_drift_repairs_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.kind), v.value]));
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  redis = createRedis(testRedisUrl());
  prefix = uniquePrefix('sweep');
  producer = new JobProducer(redis, prefix);
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-sweep-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  await vectors.ensureCollection(embedder.dimensions);
  registry = createMetrics('maintenance').registry;

  const tenants = new TenantRepository(db);
  tenantA = await tenants.ensureTenantWithKey('sweep-a', 'sweep-a-key');
  tenantB = await tenants.ensureTenantWithKey('sweep-b', 'sweep-b-key');
  // The sweep compares one id slice (first hex digit) at a time: ids at the
  // edges of the slices (the first and last UUID of the space, and either
  // side of the 0/1 and e/f boundaries) must each land in their own.
  await addDocument('ok', tenantA, {
    contentType: 'record',
    chunks: 3,
    indexed: true,
    vectors: true,
    old: true,
    ids: ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
  });
  await addDocument('missing', tenantA, {
    contentType: 'record',
    chunks: 2,
    indexed: true,
    vectors: false,
    old: true,
    ids: ['0fffffff-ffff-ffff-ffff-ffffffffffff', 'f0000000-0000-0000-0000-000000000000'],
  });
  await addDocument('page', tenantA, { contentType: 'page', chunks: 2, indexed: false, vectors: false, old: true });
  await addDocument('article', tenantA, { contentType: 'article', chunks: 1, indexed: false, vectors: false, old: true });
  // In flight: written just now; marked indexed just now (its vector may postdate a listing).
  await addDocument('fresh', tenantA, { contentType: 'record', chunks: 1, indexed: false, vectors: false, old: false });
  await addDocument('just-indexed', tenantA, { contentType: 'record', chunks: 1, indexed: true, indexedNow: true, vectors: false, old: true });
  await addDocument('ok-b', tenantB, { contentType: 'case', chunks: 1, indexed: true, vectors: true, old: true });
  // In flight: part of an ingest task that is still running.
  const kbB = await tenants.knowledgeBaseId(tenantB, 'default');
  const task = await db.task.create({ data: { tenantId: tenantB, knowledgeBaseId: kbB, type: 'ingest', state: 'running', params: {} } });
  await addDocument('ingesting', tenantB, { contentType: 'record', chunks: 2, indexed: false, vectors: false, old: true, taskId: task.id });

  const orphanIds = ['10000000-0000-0000-0000-000000000000', 'efffffff-ffff-ffff-ffff-ffffffffffff'];
  for (const tenantId of [tenantA, tenantA, tenantA, tenantB]) {
    const id = orphanIds.shift() ?? randomUUID();
    orphans.push(id);
    await upsertVectors(tenantId, await tenants.knowledgeBaseId(tenantId, 'default'), randomUUID(), 'record', [id]);
  }

  const deps = {
    chunks: new ChunkIndexRepository(db),
    vectors,
    producer,
    drift: createDriftMetrics({ registry, redis, prefix, log }),
    graceMs: GRACE_MS,
  };
  sweepWorker = createWorker({
    queue: QueueName.maintenance,
    handlers: recordRuns(
      new ScheduleRunRepository(db),
      someHandlers(QueueName.maintenance, { 'vectorization-sweep': (data, ctx) => vectorizationSweep(data, ctx, deps) }),
    ),
    connection: redis,
    producer,
    log,
    registry,
  });
}, 120_000);

afterAll(async () => {
  await sweepWorker?.close();
  await embedWorker?.close();
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await redis.del(`${prefix}:maintenance:vector-drift`);
  await producer.close();
  await redis.quit();
  await vectors.close();
  await db.$disconnect();
  await database.drop();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('vectorization sweep', () => {
  let first: SweepResult;
  let embedJobs: Job[];

  it('measures the drift before repairing it and exports it as kbflow_vector_drift', async () => {
    expect(await driftGauge()).toEqual({});
    first = await sweep();
    expect(first.tenants).toBe(2);
    expect(first.drift).toEqual({ unindexed: 3, orphaned: 4, missing: 2 });
    expect(await driftGauge()).toEqual({ unindexed: 3, orphaned: 4, missing: 2 });
  }, 120_000);

  it('deletes the vectors without a row in every tenant, and nothing else', async () => {
    const a = await vectors.listIds({ tenantId: tenantA });
    const b = await vectors.listIds({ tenantId: tenantB });
    expect(a.filter((id) => orphans.includes(id))).toEqual([]);
    expect(b.filter((id) => orphans.includes(id))).toEqual([]);
    expect(a.sort()).toEqual([...docs.ok!.chunkIds].sort());
    expect(b).toEqual(docs['ok-b']!.chunkIds);
    expect(first.repaired.orphanedDeleted).toBe(4);
  });

  it('marks indexed chunks whose vector is gone as not indexed, but not a chunk indexed within the grace period', async () => {
    const rows = await db.chunk.findMany({ where: { documentId: { in: [docs.missing!.id, docs['just-indexed']!.id] } }, select: { id: true, indexed: true } });
    const byId = Object.fromEntries(rows.map((r) => [r.id, r.indexed !== null]));
    expect(docs.missing!.chunkIds.map((id) => byId[id])).toEqual([false, false]);
    expect(byId[docs['just-indexed']!.chunkIds[0]!]).toBe(true);
    expect((await db.document.findUniqueOrThrow({ where: { id: docs.missing!.id } })).status).toBe('indexing');
  });

  it('enqueues embed-documents at LOW priority per tenant and weighting, leaving work in flight alone', async () => {
    embedJobs = await producer.queue(QueueName.embed).getJobs(['prioritized', 'waiting']);
    const summary = embedJobs
      .map((job) => ({
        name: job.name,
        priority: priorityClass(job.opts.priority),
        tenantId: job.data.tenantId,
        weighting: job.data.weighting,
        documentIds: job.data.documentIds,
      }))
      .sort((x, y) => x.weighting.localeCompare(y.weighting));
    expect(summary).toEqual([
      { name: 'embed-documents', priority: Priority.LOW, tenantId: tenantA, weighting: 'article', documentIds: [docs.article!.id] },
      { name: 'embed-documents', priority: Priority.LOW, tenantId: tenantA, weighting: 'none', documentIds: [docs.missing!.id, docs.page!.id].sort() },
    ]);
    expect(embedJobs.every((job) => String(job.id).startsWith('sweep-manual-vectorization-sweep-1-'))).toBe(true);
    expect(first.repaired).toEqual({ orphanedDeleted: 4, missingReset: 2, unindexedEnqueued: 5 });
    expect(await repairs()).toEqual({ unindexed: 5, orphaned: 4, missing: 2 });
  });

  it('after the embed jobs ran, the next sweep finds no drift and enqueues nothing', async () => {
    const deps = { records: new RecordRepository(db), embedder, vectors, ready: async () => undefined };
    embedWorker = createWorker({
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, { 'embed-documents': (data, ctx) => embedDocuments(data, ctx, deps) }),
      connection: redis,
      producer,
      log,
      registry: createMetrics('embedder').registry,
    });
    const embedQueue = producer.queue(QueueName.embed);
    await until('embed jobs', async () => {
      const states = await Promise.all(embedJobs.map(async (job) => (await embedQueue.getJob(String(job.id)))?.getState()));
      if (states.includes('failed')) throw new Error(`an embed job failed: ${states.join(', ')}`);
      return states.every((s) => s === 'completed');
    });

    const second = await sweep();
    expect(second.drift).toEqual({ unindexed: 0, orphaned: 0, missing: 0 });
    expect(second.embedJobs).toBe(0);
    expect(await driftGauge()).toEqual({ unindexed: 0, orphaned: 0, missing: 0 });
    const expected = ['ok', 'missing', 'page', 'article'].flatMap((name) => docs[name]!.chunkIds).sort();
    expect((await vectors.listIds({ tenantId: tenantA })).sort()).toEqual(expected);
    expect((await db.document.findUniqueOrThrow({ where: { id: docs.missing!.id } })).status).toBe('indexed');
    // Still in flight, still untouched: the fresh document and the running task's.
    const untouched = await db.chunk.count({ where: { documentId: { in: [docs.fresh!.id, docs.ingesting!.id] }, indexed: null } });
    expect(untouched).toBe(3);
  }, 120_000);

  it('records each sweep as a schedule run with its drift', async () => {
    const runs = await new ScheduleRunRepository(db).recent('vectorization-sweep', 10);
    expect(runs.map((r) => [r.jobId, r.trigger, r.status, r.attempts])).toEqual([
      ['manual-vectorization-sweep-2', 'manual', 'completed', 1],
      ['manual-vectorization-sweep-1', 'manual', 'completed', 1],
    ]);
    expect((runs[1]!.result as SweepResult).drift).toEqual({ unindexed: 3, orphaned: 4, missing: 2 });
    expect(runs.every((r) => typeof r.durationMs === 'number' && r.finishedAt !== null)).toBe(true);
  });
});
