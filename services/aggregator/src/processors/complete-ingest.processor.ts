import type { IngestResult, TaskRepository, TaskState } from '@kbflow/db';
import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';

export interface CompleteIngestDeps {
  tasks: Pick<TaskRepository, 'finishIngest'>;
  producer: Pick<JobProducer, 'enqueue'>;
}

/**
 * Runs when every `embed-documents` job of an ingest request has finished:
 * writes the final counts to the task (completed, or failed when nothing
 * could be embedded) and asks maintenance to compact the vector store,
 * like a finished crawl does (deduplicated, so a burst of ingests
 * compacts once).
 */
export async function completeIngest(
  data: JobData<'aggregate', 'complete-ingest'>,
  ctx: JobContext,
  deps: CompleteIngestDeps,
): Promise<{ state: TaskState; result: IngestResult } | { state: 'missing' }> {
  const finished = await deps.tasks.finishIngest(data.taskId);
  if (!finished) {
    ctx.log.warn({ taskId: data.taskId }, 'ingest task not found');
    return { state: 'missing' };
  }
  ctx.log.info({ taskId: data.taskId, state: finished.state, ...finished.result }, 'ingest finished');
  if (finished.result.embedded > 0) {
    await deps.producer.enqueue(
      QueueName.maintenance,
      'compact-vector-store',
      { reason: `ingest ${data.taskId} finished`, correlationId: ctx.correlationId },
      { priority: Priority.LOW, deduplication: { id: 'compact-vector-store' } },
    );
  }
  return finished;
}
