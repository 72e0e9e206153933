// caseSync on real PostgreSQL and BullMQ with the default category rules:
// each pending case version is categorized, checked for completeness,
// written as a document, logged once under the run's job id, and handed to
// the embedder in LOW embed-documents jobs; a run with nothing pending does
// nothing; a changed case is processed again with its stale chunks.
// (Concurrent runs and writers: test/case-sync.int.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CaseRepository, type CaseFields, type Db } from '@kbflow/db';
import { createLogger } from '@kbflow/observability';
import { createRedis, JobProducer, Priority, priorityClass, QueueName, type JobContext, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import { readCaseCategoryRules } from '../case-category-config.ts';
import type { CompiledCategoryRules } from '../domain/case-categories.ts';
import { caseSync, type CaseSyncDeps } from './case-sync.processor.ts';

const log = createLogger('case-sync-test', 'silent');

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let cases: CaseRepository;
let deps: CaseSyncDeps;
let tenantId: string;
let knowledgeBaseId: string;

const fields = (externalId: string, subject: string, more: Partial<CaseFields> = {}): CaseFields => ({
  externalId,
  subject,
  description: 'The customer wrote in about this twice this week and is waiting on us.',
  resolution: '',
  status: 'open',
  priority: 'normal',
  product: 'web',
  channel: 'email',
  metadata: {},
  ...more,
});

/** A real maintenance job: its id is the run id case_sync_log records. */
async function runCtx(): Promise<JobContext> {
  const job = await producer.enqueue(QueueName.maintenance, 'case-sync', { trigger: 'manual' }, { priority: Priority.LOW });
  return { job, log, correlationId: `case-sync-${job.id}` };
}

const embedJobs = async () =>
  (await producer.queue(QueueName.embed).getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name === 'embed-documents');

beforeAll(async () => {
  fixture = await createTenantFixture('case-sync');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('case-sync'));
  cases = new CaseRepository(db);
  const read = readCaseCategoryRules(undefined);
  if (!read.ok) throw new Error(read.problems.join('; '));
  const rules: CompiledCategoryRules = read.rules;
  deps = { cases, producer, rules, batchSize: 2 };
});

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

describe('caseSync', () => {
  it('categorizes, checks and writes every pending case in batches, logs each version under the run id, and queues their documents at LOW', async () => {
    await cases.upsertMany(tenantId, knowledgeBaseId, [
      fields('c-1', 'Refund request for a double charge'),
      fields('c-2', 'Phishing email received'),
      fields('c-3', 'Network problem'),
      fields('c-4', 'Closed without a resolution', { status: 'closed', description: 'short' }),
      fields('c-5', 'Product recommendation'),
    ]);
    const ctx = await runCtx();

    const result = await caseSync({ trigger: 'manual' }, ctx, deps);

    expect(result).toMatchObject({ runId: String(ctx.job.id), batches: 3, processed: 5, alreadyProcessed: 0, complete: 4, incomplete: 1, documentsToEmbed: 5 });
    expect(result.categories).toEqual({ billing: 1, security: 1, network: 1, other: 2 });
    const rows = await db.case.findMany({ where: { tenantId }, orderBy: { externalId: 'asc' } });
    expect(rows.map((r) => [r.externalId, r.category, r.complete, r.syncedVersion, r.documentId !== null])).toEqual([
      ['c-1', 'billing', true, 1, true],
      ['c-2', 'security', true, 1, true],
      ['c-3', 'network', true, 1, true],
      ['c-4', 'other', false, 1, true],
      ['c-5', 'other', true, 1, true],
    ]);
    expect(rows[3]!.missingFields).toEqual(['description', 'resolution']);
    const logged = await db.caseSyncLog.findMany({ select: { runId: true, version: true } });
    expect(logged).toHaveLength(5);
    expect(new Set(logged.map((l) => `${l.runId}@${l.version}`))).toEqual(new Set([`${String(ctx.job.id)}@1`]));

    const jobs = await embedJobs();
    expect(jobs).toHaveLength(result.embedJobs);
    expect(jobs.flatMap((j) => j.data.documentIds).sort()).toEqual(rows.map((r) => r.documentId).sort());
    expect(jobs.every((j) => j.data.tenantId === tenantId && priorityClass(j.opts.priority) === Priority.LOW && String(j.id).startsWith('case-embed-'))).toBe(
      true,
    );
  });

  it('a run with nothing pending claims nothing and queues nothing', async () => {
    const before = await embedJobs();
    expect(await caseSync({ trigger: 'schedule' }, await runCtx(), deps)).toMatchObject({ batches: 0, processed: 0, embedJobs: 0, documentsToEmbed: 0 });
    expect(await embedJobs()).toHaveLength(before.length);
  });

  it("a changed case is processed again under the new run, and its document's dropped chunks go with the embed job", async () => {
    const c1 = await db.case.findFirstOrThrow({ where: { externalId: 'c-1' } });
    const oldChunks = (await db.chunk.findMany({ where: { documentId: c1.documentId! }, select: { id: true } })).map((c) => c.id);
    await cases.update(tenantId, c1.id, { subject: 'Login fails after password reset', description: 'Cannot sign in since the reset; the account is locked.' });
    const before = (await embedJobs()).length;
    const ctx = await runCtx();

    const result = await caseSync({ trigger: 'manual' }, ctx, deps);

    expect(result).toMatchObject({ processed: 1, documentsToEmbed: 1, embedJobs: 1 });
    expect(result.categories).toEqual({ account: 1 });
    expect(await db.case.findUniqueOrThrow({ where: { id: c1.id } })).toMatchObject({
      category: 'account',
      version: 2,
      syncedVersion: 2,
      documentId: c1.documentId,
    });
    expect(await db.caseSyncLog.findUniqueOrThrow({ where: { caseId_version: { caseId: c1.id, version: 2 } } })).toMatchObject({ runId: String(ctx.job.id) });
    const jobs = await embedJobs();
    expect(jobs).toHaveLength(before + 1);
    const job = jobs.find((j) => j.data.documentIds.includes(c1.documentId));
    expect(job!.data.staleChunkIds.length).toBeGreaterThan(0);
    expect(oldChunks).toEqual(expect.arrayContaining(job!.data.staleChunkIds));
  });
});
