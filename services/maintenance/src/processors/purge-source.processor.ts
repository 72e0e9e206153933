import type { SourceRepository, TaskRepository } from '@kbflow/db';
import { describeError } from '@kbflow/errors';
import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';

/** The catalog's limit on the chunks of one `embed/delete-vectors` job (it also takes at most 1,000 documents). */
const MAX_CHUNKS_PER_JOB = 20_000;
/** Documents deleted per transaction (below the catalog's 1,000 documents per `embed/delete-vectors` job). */
const PAGE_SIZE = 500;

export interface PurgeSourceDeps {
  sources: Pick<SourceRepository, 'documentIds' | 'deleteDocuments'>;
  tasks: Pick<TaskRepository, 'markRunning' | 'settle'>;
  producer: JobProducer;
}

/**
 * `DELETE /v1/sources/:id?purge=true`: removes the documents the source's
 * runs reached, with their chunks (cascade) and vectors (`delete-vectors`
 * jobs, in the catalog's batch sizes), page by page. Safe to redeliver: a
 * page already deleted is no longer found.
 */
export async function purgeSource(
  data: JobData<'maintenance', 'purge-source'>,
  ctx: JobContext,
  deps: PurgeSourceDeps,
): Promise<{ documents: number; chunks: number }> {
  try {
    return await purgePages(data, ctx, deps);
  } catch (error) {
    // The last attempt settles the task, so it does not read running forever.
    if (ctx.job.attemptsMade + 1 >= (ctx.job.opts.attempts ?? 1)) await deps.tasks.settle(data.taskId, 'failed', null, describeError(error));
    throw error;
  }
}

async function purgePages(
  data: JobData<'maintenance', 'purge-source'>,
  ctx: JobContext,
  deps: PurgeSourceDeps,
): Promise<{ documents: number; chunks: number }> {
  await deps.tasks.markRunning(data.taskId);
  let documents = 0;
  let chunks = 0;
  for (;;) {
    const ids = await deps.sources.documentIds(data.tenantId, data.sourceId, PAGE_SIZE);
    if (ids.length === 0) break;
    const removed = await deps.sources.deleteDocuments(data.tenantId, ids);
    documents += removed.documentIds.length;
    chunks += removed.chunkIds.length;
    const jobs = [];
    // PAGE_SIZE is below the catalog's 1,000 documents per job: the documents go in the first job, the chunks spread over as many as they need.
    for (let i = 0; i === 0 || i < removed.chunkIds.length; i += MAX_CHUNKS_PER_JOB) {
      jobs.push({
        data: {
          tenantId: data.tenantId,
          documentIds: i === 0 ? removed.documentIds : [],
          chunkIds: removed.chunkIds.slice(i, i + MAX_CHUNKS_PER_JOB),
          correlationId: ctx.correlationId,
        },
        opts: { priority: Priority.NORMAL },
      });
    }
    if (removed.documentIds.length > 0) await deps.producer.enqueueBulk(QueueName.embed, 'delete-vectors', jobs);
  }
  await deps.tasks.settle(data.taskId, 'completed', { documents, chunks });
  ctx.log.info({ sourceId: data.sourceId, documents, chunks }, 'source purged');
  return { documents, chunks };
}
