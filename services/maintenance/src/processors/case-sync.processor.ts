import { createHash } from 'node:crypto';
import type { CaseRepository, CaseSyncBatch, CaseSyncPlan, PendingCase } from '@kbflow/db';
import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
import { categorizeCase, type CompiledCategoryRules } from '../domain/case-categories.ts';
import { assessCompleteness, DEFAULT_COMPLETENESS_RULES, type CompletenessRules } from '../domain/case-completeness.ts';
import { buildCaseDocument } from '../domain/case-document.ts';

/** Catalog limits of `embed/embed-documents` and `embed/delete-vectors`. */
const MAX_DOCUMENTS_PER_JOB = 1000;
const MAX_CHUNK_IDS_PER_JOB = 20_000;

export interface CaseSyncDeps {
  cases: Pick<CaseRepository, 'syncBatch'>;
  producer: Pick<JobProducer, 'enqueueBulk'>;
  rules: CompiledCategoryRules;
  completeness?: CompletenessRules;
  /** Cases per claim and transaction (KBFLOW_CASE_SYNC_BATCH_SIZE). */
  batchSize: number;
}

export interface CaseSyncResult {
  runId: string;
  batches: number;
  /** Case versions processed by this run (each logged once in case_sync_log). */
  processed: number;
  /** Claimed versions another run had processed already (not written again). */
  alreadyProcessed: number;
  complete: number;
  incomplete: number;
  categories: Record<string, number>;
  /** Documents handed to the embedder (new or changed text). */
  documentsToEmbed: number;
  staleChunks: number;
  embedJobs: number;
}

/** Category, completeness and document of each claimed case: pure, run inside the claim's transaction. */
export function planCaseSync(cases: PendingCase[], rules: CompiledCategoryRules, completeness: CompletenessRules = DEFAULT_COMPLETENESS_RULES): CaseSyncPlan[] {
  return cases.map((c) => {
    const { category } = categorizeCase(c, rules);
    const { complete, missingFields } = assessCompleteness(c, completeness);
    return { caseId: c.id, category, complete, missingFields, document: buildCaseDocument(c, category) };
  });
}

/**
 * `maintenance/case-sync`: processes every pending case change once. Each
 * loop claims a batch (`FOR UPDATE SKIP LOCKED`, so a second run at the same
 * time takes other rows), categorizes it, checks completeness, writes its
 * document and chunks, logs each (case, version) and marks it synced in one
 * transaction, then hands the changed documents to the embedder at LOW
 * priority. Pending is `synced_version < version`, never a timestamp: a
 * writer that commits late or shares a timestamp is found by the next batch
 * or run, and a change made while its case is being processed bumps the
 * version past the one recorded, so it stays pending.
 *
 * If enqueueing fails after a commit, the job fails and retries, and those
 * documents stay `indexing` with unindexed chunks until the vectorization
 * sweep embeds them.
 */
export async function caseSync(_data: JobData<'maintenance', 'case-sync'>, ctx: JobContext, deps: CaseSyncDeps): Promise<CaseSyncResult> {
  const runId = String(ctx.job.id);
  const result: CaseSyncResult = {
    runId,
    batches: 0,
    processed: 0,
    alreadyProcessed: 0,
    complete: 0,
    incomplete: 0,
    categories: {},
    documentsToEmbed: 0,
    staleChunks: 0,
    embedJobs: 0,
  };
  for (;;) {
    const batch = await deps.cases.syncBatch({ limit: deps.batchSize, runId }, (cases) => planCaseSync(cases, deps.rules, deps.completeness));
    if (batch.claimed === 0) break;
    result.batches++;
    result.alreadyProcessed += batch.alreadyProcessed;
    for (const p of batch.processed) {
      result.processed++;
      result.categories[p.category] = (result.categories[p.category] ?? 0) + 1;
      if (p.complete) result.complete++;
      else result.incomplete++;
    }
    result.embedJobs += await enqueueEmbeds(batch.embed, ctx, deps);
    result.documentsToEmbed += batch.embed.reduce((n, e) => n + e.documentIds.length, 0);
    result.staleChunks += batch.embed.reduce((n, e) => n + e.staleChunkIds.length, 0);
    // A short batch means nothing else is pending (or another run holds it).
    if (batch.claimed < deps.batchSize) break;
  }
  ctx.log.info({ ...result, categories: undefined }, 'case sync done');
  return result;
}

/** One job id per tenant, change set and slice: a retried enqueue adds nothing twice. */
function jobIdOf(kind: string, tenantId: string, caseVersions: string[], slice: number): string {
  return `${kind}-${createHash('sha1')
    .update([tenantId, slice, ...caseVersions].join('\u0000'))
    .digest('hex')}`;
}

async function enqueueEmbeds(embeds: CaseSyncBatch['embed'], ctx: JobContext, deps: Pick<CaseSyncDeps, 'producer'>): Promise<number> {
  let jobs = 0;
  for (const e of embeds) {
    const slices = Math.max(Math.ceil(e.documentIds.length / MAX_DOCUMENTS_PER_JOB), Math.ceil(e.staleChunkIds.length / MAX_CHUNK_IDS_PER_JOB));
    const embedJobs = [];
    const deleteJobs = [];
    for (let i = 0; i < slices; i++) {
      const documentIds = e.documentIds.slice(i * MAX_DOCUMENTS_PER_JOB, (i + 1) * MAX_DOCUMENTS_PER_JOB);
      const staleChunkIds = e.staleChunkIds.slice(i * MAX_CHUNK_IDS_PER_JOB, (i + 1) * MAX_CHUNK_IDS_PER_JOB);
      if (documentIds.length > 0) {
        embedJobs.push({
          data: { tenantId: e.tenantId, documentIds, staleChunkIds, correlationId: ctx.correlationId },
          opts: { priority: Priority.LOW, jobId: jobIdOf('case-embed', e.tenantId, e.caseVersions, i) },
        });
      } else {
        // embed-documents needs a document; stale vectors beyond the last document slice go on their own.
        deleteJobs.push({
          data: { tenantId: e.tenantId, chunkIds: staleChunkIds, correlationId: ctx.correlationId },
          opts: { priority: Priority.LOW, jobId: jobIdOf('case-unembed', e.tenantId, e.caseVersions, i) },
        });
      }
    }
    await deps.producer.enqueueBulk(QueueName.embed, 'embed-documents', embedJobs);
    await deps.producer.enqueueBulk(QueueName.embed, 'delete-vectors', deleteJobs);
    jobs += embedJobs.length + deleteJobs.length;
  }
  return jobs;
}
