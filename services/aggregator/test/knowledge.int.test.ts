import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CaseRepository, DocumentRepository, KnowledgeRepository, RecordRepository, TenantRepository, type CaseFields, type Db } from '@kbflow/db';
import { HashingEmbedder, OpenAIChatModel } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, Priority, priorityClass, QueueName, someHandlers, type JobContext, type Redis } from '@kbflow/queues';
import { createTenantFixture, SHARED_DATA, startFakeOpenAI, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { QueueEvents, type Job, type Worker } from 'bullmq';
import { parse } from 'csv-parse/sync';
import { deleteVectors } from '../../embedder/src/processors/delete-vectors.processor.ts';
import { embedDocuments } from '../../embedder/src/processors/embed-documents.processor.ts';
import { readCaseCategoryRules } from '../../maintenance/src/case-category-config.ts';
import { caseSync } from '../../maintenance/src/processors/case-sync.processor.ts';
import { generateKnowledgeRun } from '../../maintenance/src/processors/generate-knowledge.processor.ts';
import { generateKnowledge, type GenerateKnowledgeDeps, type GenerateKnowledgeResult } from '../src/processors/generate-knowledge.processor.ts';

// Knowledge generation on the 3,000 GitHub issues of ../shared/data, loaded as
// cases and categorized by the real case sync, with the real processors on
// real PostgreSQL, Redis (BullMQ) and LanceDB: the maintenance schedule's job
// waits on the aggregator's, and the embedder vectorizes the articles.
const FILES = ['nlbse24_github_issues_train.csv', 'nlbse24_github_issues_test.csv'];
const log = createLogger('knowledge-test', 'silent');

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let syncProducer: JobProducer;
let lanceDir: string;
let lance: LanceDbVectorStore;
let workers: Worker[] = [];
let maintenanceEvents: QueueEvents;
let aggregateEvents: QueueEvents;
let eventConnections: Redis[] = [];
let knowledge: KnowledgeRepository;
let deps: GenerateKnowledgeDeps;
let tenantId: string;
let knowledgeBaseId: string;
let rules: ReturnType<typeof readCaseCategoryRules> & { ok: true };

/** PostgreSQL text cannot hold NUL, which a few issue bodies contain. */
const text = (value: string | undefined) => (value ?? '').replaceAll('\u0000', '');
const ctxFor = (id: string): JobContext => ({ job: { id, attemptsMade: 0 } as unknown as Job, log, correlationId: id });

/** One generation through the schedule: maintenance/generate-knowledge enqueues the aggregator's job and waits for it. */
async function runScheduled(): Promise<GenerateKnowledgeResult> {
  const job = await producer.enqueue(QueueName.maintenance, 'generate-knowledge', { trigger: 'manual' }, { priority: Priority.LOW });
  const out = (await job.waitUntilFinished(maintenanceEvents, 300_000)) as { aggregateJobId: string; result: GenerateKnowledgeResult };
  expect(out.aggregateJobId).toMatch(/^generate-knowledge-/);
  return out.result;
}

/** Waits until the embedder has nothing left to do (the jobs are the test's own, on its own prefix). */
async function embedDrained(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const counts = await producer.queue(QueueName.embed).getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    if (Object.values(counts).every((n) => n === 0)) return;
    if (Date.now() > deadline) throw new Error(`embed queue not drained: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function articleJobs(): Promise<Job[]> {
  const jobs = await producer.queue(QueueName.embed).getJobs(['completed', 'failed', 'waiting', 'prioritized', 'active', 'delayed']);
  return jobs.filter((j) => j.name === 'embed-documents');
}

async function articles() {
  return db.knowledgeArticle.findMany({ where: { knowledgeBaseId }, include: { cases: { include: { case: true } } }, orderBy: { id: 'asc' } });
}

beforeAll(async () => {
  fixture = await createTenantFixture('knowledge', { poolSize: 10 });
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('knowledge'));
  // Case sync's own embed jobs (3,000 case documents) go where nothing consumes them: this test is about articles.
  syncProducer = new JobProducer(redis, uniquePrefix('knowledge-sync'));
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-knowledge-'));
  lance = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  const embedder = new HashingEmbedder();
  await lance.ensureCollection(embedder.dimensions);

  const rows: CaseFields[] = [];
  const created: { externalId: string; createdAt: string }[] = [];
  for (const file of FILES) {
    const split = file.includes('train') ? 'train' : 'test';
    const records = parse(readFileSync(path.join(SHARED_DATA, 'support-tickets', file)), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    records.forEach((r, i) => {
      const externalId = `${r.repo}#${split}-${i + 1}`;
      rows.push({
        externalId,
        subject: text(r.title),
        description: text(r.body),
        resolution: '',
        status: 'open',
        priority: '',
        product: r.repo ?? '',
        channel: 'github',
        metadata: { label: r.label, repo: r.repo },
      });
      created.push({ externalId, createdAt: `${r.created_at}Z` });
    });
  }
  expect(rows).toHaveLength(3000);
  const cases = new CaseRepository(db);
  for (let i = 0; i < rows.length; i += 500) await cases.upsertMany(tenantId, knowledgeBaseId, rows.slice(i, i + 500));
  // The issues' own dates (kbflow's columns: no new version).
  await db.$executeRaw`UPDATE cases c SET created_at = v.created_at::timestamptz
    FROM unnest(${created.map((c) => c.externalId)}::text[], ${created.map((c) => c.createdAt)}::text[]) AS v(external_id, created_at)
    WHERE c.tenant_id = ${tenantId}::uuid AND c.external_id = v.external_id`;
  const read = readCaseCategoryRules(undefined);
  if (!read.ok) throw new Error(read.problems.join('; '));
  rules = read;
  const sync = await caseSync({ trigger: 'manual' }, ctxFor('case-sync-1'), { cases, producer: syncProducer, rules: rules.rules, batchSize: 250 });
  expect(sync.processed).toBe(3000);
  process.stdout.write(`case sync categories: ${JSON.stringify(sync.categories)}\n`);

  knowledge = new KnowledgeRepository(db);
  deps = { knowledge, producer, embedder, minCases: 5, similarity: 0.6, lockTimeoutMs: 120_000 };
  const registry = createMetrics('knowledge-test').registry;
  const common = { connection: redis, producer, log, registry };
  const embedDeps = { records: new RecordRepository(db), documents: new DocumentRepository(db), embedder, vectors: lance, ready: async () => undefined };
  eventConnections = [redis.duplicate(), redis.duplicate()];
  aggregateEvents = new QueueEvents(QueueName.aggregate, { connection: eventConnections[0]!, prefix: producer.prefix });
  maintenanceEvents = new QueueEvents(QueueName.maintenance, { connection: eventConnections[1]!, prefix: producer.prefix });
  await Promise.all([aggregateEvents.waitUntilReady(), maintenanceEvents.waitUntilReady()]);
  workers = [
    createWorker({
      ...common,
      queue: QueueName.aggregate,
      handlers: someHandlers(QueueName.aggregate, { 'generate-knowledge': (data, ctx) => generateKnowledge(data, ctx, deps) }),
    }),
    createWorker({
      ...common,
      queue: QueueName.maintenance,
      handlers: someHandlers(QueueName.maintenance, {
        'generate-knowledge': (data, ctx) => generateKnowledgeRun(data, ctx, { producer, aggregateEvents, timeoutMs: 300_000 }),
      }),
    }),
    createWorker({
      ...common,
      queue: QueueName.embed,
      handlers: someHandlers(QueueName.embed, {
        'embed-documents': (data, ctx) => embedDocuments(data, ctx, embedDeps),
        'delete-vectors': (data, ctx) => deleteVectors(data, ctx, embedDeps),
      }),
    }),
  ];
}, 600_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await aggregateEvents?.close();
  await maintenanceEvents?.close();
  await Promise.all(eventConnections.map((c) => c.quit()));
  for (const p of [producer, syncProducer]) {
    await Promise.all(p.allQueues().map((q) => q.obliterate({ force: true })));
    await p.close();
  }
  await redis.quit();
  await lance.close();
  await fixture.close();
  await rm(lanceDir, { recursive: true, force: true });
}, 120_000);

describe('knowledge generation on the GitHub issues', () => {
  let firstArticles: Awaited<ReturnType<typeof articles>>;

  it('when two runs start at once, writes one article per recurring problem, each linked to at least 5 similar cases', async () => {
    const started = performance.now();
    const [a, b] = await Promise.all([generateKnowledge({}, ctxFor('direct-1'), deps), generateKnowledge({}, ctxFor('direct-2'), deps)]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    firstArticles = await articles();
    const count = firstArticles.length;
    // The runs took turns on the knowledge base's lock: one wrote, the other found everything written.
    expect([a.created, b.created].sort((x, y) => x - y)).toEqual([0, count]);
    expect(a.unchanged + b.unchanged).toBe(count);
    expect(a.updated + b.updated + a.retired + b.retired).toBe(0);
    expect(new Set(firstArticles.map((x) => x.patternKey)).size).toBe(count);
    expect(count).toBeGreaterThanOrEqual(5);

    const lines = firstArticles.sort((x, y) => y.cases.length - x.cases.length).map((x) => `${String(x.cases.length).padStart(3)}  [${x.category}] ${x.title}`);
    process.stdout.write(`${count} articles from 3,000 GitHub issues (two concurrent runs, ${seconds} s):\n${lines.join('\n')}\n`);

    for (const article of firstArticles) {
      expect(article.status).toBe('active');
      expect(article.generatedBy).toBe('extractive');
      expect(article.cases.length).toBeGreaterThanOrEqual(5);
      expect(article.cases.every((l) => l.similarity >= 0.6 && l.case.category === article.category)).toBe(true);
      // A pattern is one problem: its cases come from one project (the issue sets of five repositories).
      const repos = new Map<string, number>();
      for (const l of article.cases) repos.set(l.case.product, (repos.get(l.case.product) ?? 0) + 1);
      expect(Math.max(...repos.values()) / article.cases.length).toBeGreaterThanOrEqual(0.8);
      // No issue records a resolution, so no article claims one.
      expect(article.resolutionSteps).toEqual([]);
      expect(article.body).toContain('No resolution recorded in the linked cases.');
      expect(article.body).toContain(`## Linked cases (${article.cases.length})`);
    }
    const subjects = (article: (typeof firstArticles)[number]) => article.cases.map((l) => l.case.subject);
    const addNode = firstArticles.find(
      (x) => subjects(x).filter((s) => /Cannot add node "\d+" because a node with that id is already in the Store/.test(s)).length >= 15,
    );
    expect(addNode?.title).toMatch(/Cannot add node/);
    const elementNotFound = firstArticles.find((x) => subjects(x).filter((s) => /Element "\d+" not found/.test(s)).length >= 10);
    expect(elementNotFound?.title).toMatch(/Element "\d+" not found/);
    expect(firstArticles.some((x) => subjects(x).filter((s) => /when running tensorflow\.python\./.test(s)).length >= 10)).toBe(true);
  }, 300_000);

  it('stores each article as a document with the summary in its metadata and vectorizes it with article weighting at LOW priority', async () => {
    const jobs = await articleJobs();
    expect(jobs).toHaveLength(firstArticles.length);
    for (const job of jobs) {
      expect(job.data).toMatchObject({ tenantId, weighting: 'article' });
      expect(priorityClass(job.opts.priority)).toBe(Priority.LOW);
    }
    await embedDrained();
    for (const article of firstArticles) {
      const doc = await db.document.findUniqueOrThrow({ where: { id: article.documentId! }, include: { chunks: true } });
      expect(doc).toMatchObject({
        contentType: 'article',
        source: 'knowledge',
        url: `article://${article.id}`,
        title: article.title,
        status: 'indexed',
        markdown: article.body,
      });
      expect((doc.metadata as { summary?: string }).summary).toBe(article.summary);
      expect(doc.chunks.length).toBeGreaterThan(0);
      expect(await lance.count({ tenantId, documentId: doc.id })).toBe(doc.chunks.length);
    }
    const chunkTotal = await db.chunk.count({ where: { document: { knowledgeBaseId, contentType: 'article' } } });
    expect(await lance.count({ tenantId, contentTypes: ['article'] })).toBe(chunkTotal);
    // Searchable as articles: a question in other words finds its article first.
    const elementNotFound = firstArticles.find((x) => /Element "\d+" not found/.test(x.title))!;
    const [question] = await deps.embedder.embed(['React DevTools says the element was not found']);
    const hits = await lance.search(question!, { tenantId, contentTypes: ['article'] }, 3);
    expect(hits[0]!.payload.documentId).toBe(elementNotFound.documentId);
  }, 300_000);

  it('running generation again (through the schedule) creates no article and rewrites none', async () => {
    const jobsBefore = (await articleJobs()).length;
    const result = await runScheduled();
    expect(result).toMatchObject({ created: 0, updated: 0, retired: 0, unchanged: firstArticles.length });
    const after = await articles();
    expect(after.map((x) => [x.id, x.updatedAt.toISOString(), x.sourceFingerprint])).toEqual(
      [...firstArticles].sort((x, y) => (x.id < y.id ? -1 : 1)).map((x) => [x.id, x.updatedAt.toISOString(), x.sourceFingerprint]),
    );
    expect((await articleJobs()).length).toBe(jobsBefore);
  }, 300_000);

  it('when a linked case changes, regenerates exactly its article, with the resolution it now records', async () => {
    const target = firstArticles.find((x) => /Cannot add node/.test(x.title))!;
    const changed = target.cases[0]!.case;
    await db.$executeRaw`UPDATE cases SET resolution = ${'Close DevTools and reload the page. Updating React DevTools to 4.28.5 stopped the error.'} WHERE id = ${changed.id}::uuid`;
    const jobsBefore = (await articleJobs()).length;

    const result = await generateKnowledge({}, ctxFor('direct-3'), deps);
    expect(result).toMatchObject({ created: 0, updated: 1, retired: 0, unchanged: firstArticles.length - 1 });
    const after = new Map((await articles()).map((x) => [x.id, x]));
    for (const before of firstArticles) {
      const now = after.get(before.id)!;
      if (before.id === target.id) {
        expect(now.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
        expect(now.sourceFingerprint).not.toBe(before.sourceFingerprint);
        expect(now.cases.find((l) => l.caseId === changed.id)!.caseVersion).toBe(changed.version + 1);
        expect(now.resolutionSteps).toEqual(['Close DevTools and reload the page.', 'Updating React DevTools to 4.28.5 stopped the error.']);
        expect(now.body).toContain('1. Close DevTools and reload the page.');
      } else {
        expect(now.updatedAt.toISOString()).toBe(before.updatedAt.toISOString());
      }
    }
    expect((await articleJobs()).length).toBe(jobsBefore + 1);
    await embedDrained();
    expect((await db.document.findUniqueOrThrow({ where: { id: target.documentId! } })).status).toBe('indexed');
  }, 300_000);

  it('when a pattern falls apart, retires its article, keeps its provenance and removes its vectors', async () => {
    const smallest = [...firstArticles].sort((x, y) => x.cases.length - y.cases.length)[0]!;
    const rewritten = smallest.cases.slice(1);
    for (const [i, l] of rewritten.entries()) {
      await db.$executeRaw`UPDATE cases SET subject = ${`Question ${i} about zebra${i} husbandry`}, description = ${`Unrelated text ${i} on quokka${i} diets.`} WHERE id = ${l.caseId}::uuid`;
    }
    const result = await generateKnowledge({}, ctxFor('direct-4'), deps);
    expect(result).toMatchObject({ created: 0, updated: 0, retired: 1, unchanged: firstArticles.length - 1 });
    const retired = await db.knowledgeArticle.findUniqueOrThrow({ where: { id: smallest.id }, include: { cases: true } });
    expect(retired).toMatchObject({ status: 'retired', documentId: null });
    expect(retired.cases).toHaveLength(smallest.cases.length);
    expect(await db.document.count({ where: { id: smallest.documentId! } })).toBe(0);
    await embedDrained();
    expect(await lance.count({ tenantId, documentId: smallest.documentId! })).toBe(0);
  }, 300_000);
});

describe('knowledge generation with an LLM configured', () => {
  it('when the model does not answer with a valid article, writes the extractive one and says so', async () => {
    const fake = await startFakeOpenAI();
    try {
      const kb = await new TenantRepository(db).knowledgeBaseId(tenantId, 'llm');
      const vpn = (n: number): CaseFields => ({
        externalId: `vpn-${n}`,
        subject: `VPN disconnects with error 809 after ${n * 10} minutes`,
        description: `The VPN client disconnects with error 809 on the office Wi-Fi after ${n * 10} minutes; reconnecting works for a while.`,
        resolution: '',
        status: 'open',
        priority: '',
        product: 'vpn',
        channel: 'email',
        metadata: {},
      });
      const cases = new CaseRepository(db);
      await cases.upsertMany(tenantId, kb, [1, 2, 3, 4, 5, 6].map(vpn));
      await caseSync({ trigger: 'manual' }, ctxFor('case-sync-2'), { cases, producer: syncProducer, rules: rules.rules, batchSize: 250 });
      // The fake provider answers chat with an echo, not the JSON article asked for.
      const chat = new OpenAIChatModel({ apiKey: 'test', baseURL: fake.url, model: 'fake-chat' });
      const result = await generateKnowledge({ knowledgeBaseId: kb }, ctxFor('llm-1'), { ...deps, chat });
      expect(result.knowledgeBases).toHaveLength(1);
      expect(result.knowledgeBases[0]).toMatchObject({ knowledgeBaseId: kb, created: 1, byLlm: 0, llmFallbacks: 1 });
      const [article] = await db.knowledgeArticle.findMany({ where: { knowledgeBaseId: kb }, include: { cases: true } });
      expect(article).toMatchObject({ generatedBy: 'extractive', status: 'active' });
      expect(article!.cases).toHaveLength(6);
      const asked = fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
      expect(asked).toHaveLength(1);
      expect(asked[0]!.body.messages[1].content).toContain('Subject: VPN disconnects with error 809');
    } finally {
      await fake.close();
    }
  }, 120_000);
});
