import { createHash } from 'node:crypto';
import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
import { ID_SLICES, type VectorStore } from '@kbflow/vector-store';
import { embedBatches, VectorDiff, type EmbedBatch } from '../domain/vector-drift.ts';
import type { DriftCounts, DriftReporter } from '../drift-metrics.ts';
import type { ChunkIndexRepository } from '../repositories/chunk-index.repository.ts';

export interface SweepDeps {
  chunks: Pick<ChunkIndexRepository, 'tenantIds' | 'chunkPages' | 'existingChunkIds' | 'markNotIndexed' | 'unindexedDocuments'>;
  vectors: Pick<VectorStore, 'listIds' | 'deleteByIds'>;
  producer: Pick<JobProducer, 'enqueueBulk'>;
  drift: DriftReporter;
  /** KBFLOW_SWEEP_GRACE_MS: what changed more recently than this is left alone. */
  graceMs: number;
  now?: () => number;
}

export interface SweepResult {
  tenants: number;
  /** What the sweep found, before repairing it. */
  drift: DriftCounts;
  repaired: { orphanedDeleted: number; missingReset: number; unindexedEnqueued: number };
  documentsEnqueued: number;
  embedJobs: number;
}

/**
 * The vectorization sweep: measures the drift between PostgreSQL and the
 * vector store, exports it, then repairs it.
 *
 * - orphaned: vectors whose chunk row is gone are deleted;
 * - missing: chunks marked indexed whose vector is gone are marked not indexed;
 * - unindexed: documents with chunks not indexed go to `embed/embed-documents` at LOW priority.
 *
 * Races with the pipeline, and why they are safe: everything is judged
 * against a cutoff of now minus the grace period, taken before the store is
 * listed. The embedder writes a vector before it marks its chunk indexed, so
 * a chunk marked before the cutoff whose vector is not listed is really
 * missing; one marked later is not judged. Chunks and documents written
 * after the cutoff are still in flight and are not re-enqueued (nor are
 * those of a task still running). A vector listed whose row is absent is
 * checked again just before deletion; the one remaining race (a row deleted
 * and re-created with the same id in between) leaves a chunk marked indexed
 * without its vector, which the next sweep finds as missing.
 *
 * Vectors are listed per tenant of the tenants table: vectors of a tenant
 * deleted from it are outside the sweep's reach. Each tenant is compared
 * one id slice at a time (see `IdSlice`): the chunks and vectors whose id
 * starts with the same hex digit, so memory is bounded by a slice.
 */
export async function vectorizationSweep(data: JobData<'maintenance', 'vectorization-sweep'>, ctx: JobContext, deps: SweepDeps): Promise<SweepResult> {
  const now = deps.now ?? Date.now;
  const cutoff = new Date(now() - deps.graceMs);

  const tenants = await deps.chunks.tenantIds();
  const orphaned: string[] = [];
  const missing: string[] = [];
  // One slice of the id space at a time (ids starting with one hex digit):
  // the comparison holds a sixteenth of a tenant's vector ids at once, where
  // holding them whole grows with the tenant (a Set and a Map entry per id,
  // hundreds of MB at millions of chunks). At the benchmark's 100,000 the
  // process's resident memory barely moved (309 -> 304 MB, kbflow issue 6):
  // its V8 heap, not the sweep, is most of that.
  for (const tenantId of tenants) {
    for (const slice of ID_SLICES) {
      const diff = new VectorDiff(await deps.vectors.listIds({ tenantId }, slice));
      for await (const page of deps.chunks.chunkPages(tenantId, cutoff, slice)) diff.addChunks(page);
      const result = diff.result();
      orphaned.push(...result.orphaned);
      missing.push(...result.missing);
    }
  }
  const pendingBefore = await deps.chunks.unindexedDocuments(cutoff);
  const drift: DriftCounts = { unindexed: sum(pendingBefore.map((d) => d.chunks)), orphaned: orphaned.length, missing: missing.length };
  // Exported before repairing, so a sweep that fails halfway still shows what it saw.
  await deps.drift.measured(drift);
  ctx.log.info({ trigger: data.trigger, tenants: tenants.length, ...drift }, 'vector drift measured');

  const stillPresent = await deps.chunks.existingChunkIds(orphaned);
  const toDelete = orphaned.filter((id) => !stillPresent.has(id.toLowerCase()));
  if (toDelete.length > 0) await deps.vectors.deleteByIds(toDelete);
  deps.drift.repaired('orphaned', toDelete.length);

  const missingReset = await deps.chunks.markNotIndexed(missing);
  deps.drift.repaired('missing', missingReset);

  // Read again: the chunks just reset are pending now too.
  const pending = await deps.chunks.unindexedDocuments(cutoff);
  const batches = embedBatches(pending);
  if (batches.length > 0) {
    await deps.producer.enqueueBulk(
      QueueName.embed,
      'embed-documents',
      batches.map((batch) => ({
        data: { tenantId: batch.tenantId, documentIds: batch.documentIds, weighting: batch.weighting, correlationId: ctx.correlationId },
        opts: { priority: Priority.LOW, jobId: embedJobId(String(ctx.job.id), batch) },
      })),
    );
  }
  const unindexedEnqueued = sum(pending.map((d) => d.chunks));
  deps.drift.repaired('unindexed', unindexedEnqueued);

  const result: SweepResult = {
    tenants: tenants.length,
    drift,
    repaired: { orphanedDeleted: toDelete.length, missingReset, unindexedEnqueued },
    documentsEnqueued: pending.length,
    embedJobs: batches.length,
  };
  ctx.log.info({ ...result.repaired, embedJobs: batches.length }, 'vector drift repaired');
  return result;
}

/**
 * The id of a sweep's embed job: the sweep's own job id and a hash of the
 * batch. A redelivered sweep adds the same jobs again, which BullMQ ignores;
 * the next sweep has another id, so a batch that failed is tried again.
 */
export function embedJobId(sweepJobId: string, batch: EmbedBatch): string {
  const hash = createHash('sha256')
    .update(`${batch.tenantId}\n${batch.weighting}\n${batch.documentIds.join(',')}`)
    .digest('hex')
    .slice(0, 16);
  // BullMQ reserves ':' in custom ids (scheduler iterations are `repeat:<name>:<millis>`).
  return `sweep-${sweepJobId.replaceAll(':', '-')}-${hash}`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
