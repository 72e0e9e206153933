// generateKnowledge on real PostgreSQL and a real BullMQ queue, with cases
// written as case sync leaves them (categorized): a recurring problem
// becomes one article linked to its cases, whose document is queued for
// article-weighted embedding at LOW priority; a run over unchanged cases
// writes nothing; an article whose cases are gone is retired and its
// vectors queued for removal. (The 3,000-issue run is test/knowledge.int.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CaseRepository, KnowledgeRepository, type Db } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger } from '@kbflow/observability';
import { createRedis, JobProducer, Priority, priorityClass, QueueName, type JobContext, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import type { Job } from 'bullmq';
import { generateKnowledge, type GenerateKnowledgeDeps } from './generate-knowledge.processor.ts';

const log = createLogger('generate-knowledge-test', 'silent');
// generateKnowledge reads the logger and the correlation id from its context.
const ctx = { job: { id: 'generate-knowledge-test', attemptsMade: 0 } as unknown as Job, log, correlationId: 'knowledge-correlation' } satisfies JobContext;
const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera'];

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let deps: GenerateKnowledgeDeps;
let tenantId: string;
let knowledgeBaseId: string;

const embedJobs = async (name: 'embed-documents' | 'delete-vectors') =>
  (await producer.queue(QueueName.embed).getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name === name);

beforeAll(async () => {
  fixture = await createTenantFixture('generate-knowledge');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('generate-knowledge'));
  // Five reports of one problem, one unrelated case, and one case sync has not categorized yet.
  await new CaseRepository(db).upsertMany(tenantId, knowledgeBaseId, [
    ...BROWSERS.map((browser, i) => ({
      externalId: `login-${i}`,
      subject: `Login page redirects back to login after password reset (${browser})`,
      description: `After resetting my password the login page keeps redirecting me back to the login form in ${browser}. Session cookie seems stale.`,
      resolution: 'Clear the session cookie and sign in again.',
      status: 'closed',
      priority: 'high',
      product: 'web',
      channel: 'email',
      metadata: {},
    })),
    {
      externalId: 'invoice-1',
      subject: 'Invoice PDF shows the wrong VAT number',
      description: 'The VAT id on the March invoice is outdated.',
      resolution: '',
      status: 'open',
      priority: 'low',
      product: 'billing',
      channel: 'email',
      metadata: {},
    },
    {
      externalId: 'unsynced-1',
      subject: 'Login page redirects back to login',
      description: 'Same loop after reset.',
      resolution: '',
      status: 'open',
      priority: 'low',
      product: 'web',
      channel: 'chat',
      metadata: {},
    },
  ]);
  await db.case.updateMany({ where: { externalId: { startsWith: 'login-' } }, data: { category: 'authentication', syncedVersion: 1 } });
  await db.case.updateMany({ where: { externalId: 'invoice-1' }, data: { category: 'billing', syncedVersion: 1 } });
  deps = { knowledge: new KnowledgeRepository(db), producer, embedder: new HashingEmbedder(), minCases: 3, similarity: 0.5, lockTimeoutMs: 10_000 };
});

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

describe('generateKnowledge', () => {
  it('writes one extractive article per recurring problem, linked to its cases, and queues its document for article-weighted embedding at LOW priority', async () => {
    const result = await generateKnowledge({ tenantId }, ctx, deps);

    expect(result).toMatchObject({ created: 1, updated: 0, unchanged: 0, retired: 0 });
    expect(result.knowledgeBases).toEqual([
      expect.objectContaining({ tenantId, knowledgeBaseId, cases: 7, skippedUncategorized: 1, patterns: 1, created: 1, byLlm: 0, llmFallbacks: 0 }),
    ]);
    const [article, ...others] = await db.knowledgeArticle.findMany({ where: { knowledgeBaseId }, include: { cases: { include: { case: true } } } });
    expect(others).toEqual([]);
    expect(article).toMatchObject({ category: 'authentication', status: 'active', generatedBy: 'extractive' });
    expect(article!.cases.map((c) => c.case.externalId).sort()).toEqual(['login-0', 'login-1', 'login-2', 'login-3', 'login-4']);
    const document = await db.document.findUniqueOrThrow({ where: { id: article!.documentId! } });
    expect(document).toMatchObject({ contentType: 'article', status: 'indexing', tenantId });

    const [job, ...more] = await embedJobs('embed-documents');
    expect(more).toEqual([]);
    expect(job!.id).toBe(`article-${document.id}-${document.contentHash.slice(0, 16)}`);
    expect(job!.data).toMatchObject({ tenantId, documentIds: [document.id], weighting: 'article', correlationId: 'knowledge-correlation' });
    expect(priorityClass(job!.opts.priority)).toBe(Priority.LOW);
  });

  it('a second run over unchanged cases writes nothing and queues no second embedding', async () => {
    const before = await db.knowledgeArticle.findFirstOrThrow({ where: { knowledgeBaseId } });
    const result = await generateKnowledge({ knowledgeBaseId }, ctx, deps);
    expect(result).toMatchObject({ created: 0, updated: 0, unchanged: 1, retired: 0 });
    expect(await db.knowledgeArticle.findFirstOrThrow({ where: { knowledgeBaseId } })).toMatchObject({
      updatedAt: before.updatedAt,
      sourceFingerprint: before.sourceFingerprint,
    });
    expect(await embedJobs('embed-documents')).toHaveLength(1);
  });

  it("when the pattern's cases are gone, retires the article, deletes its document and queues its vectors' removal", async () => {
    const article = await db.knowledgeArticle.findFirstOrThrow({ where: { knowledgeBaseId } });
    const chunkIds = (await db.chunk.findMany({ where: { documentId: article.documentId! }, select: { id: true } })).map((c) => c.id);
    await db.case.deleteMany({ where: { externalId: { in: ['login-0', 'login-1', 'login-2'] } } });

    const result = await generateKnowledge({ tenantId }, ctx, deps);

    expect(result).toMatchObject({ created: 0, retired: 1 });
    expect(await db.knowledgeArticle.findUniqueOrThrow({ where: { id: article.id } })).toMatchObject({ status: 'retired', documentId: null });
    expect(await db.document.count({ where: { id: article.documentId! } })).toBe(0);
    const [job, ...more] = await embedJobs('delete-vectors');
    expect(more).toEqual([]);
    expect(job!.data).toMatchObject({ tenantId, documentIds: [article.documentId], chunkIds: expect.arrayContaining(chunkIds) });
    expect(priorityClass(job!.opts.priority)).toBe(Priority.LOW);
  });
});
