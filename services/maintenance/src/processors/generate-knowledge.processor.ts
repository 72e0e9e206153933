import { Priority, QueueName, type JobContext, type JobData, type JobProducer } from '@kbflow/queues';
import type { QueueEvents } from 'bullmq';

export interface GenerateKnowledgeRunDeps {
  producer: Pick<JobProducer, 'enqueue'>;
  /** Events of the `aggregate` queue (a connection of its own: it blocks on the stream). */
  aggregateEvents: QueueEvents;
  /** KBFLOW_KNOWLEDGE_TIMEOUT_MS: how long to wait for the aggregator's result. */
  timeoutMs: number;
}

export interface GenerateKnowledgeRunResult {
  aggregateJobId: string;
  /** The aggregator's `generate-knowledge` result (counts per knowledge base). */
  result: unknown;
}

/**
 * `maintenance/generate-knowledge` (the schedule, every 2 hours by default):
 * knowledge generation runs in the aggregator, next to the embedder and the
 * LLM it needs, so this enqueues `aggregate/generate-knowledge` at LOW
 * priority and waits for it. The schedule run then records the real
 * outcome: the aggregator's counts, its error, or a timeout after
 * `timeoutMs` (the aggregator's job goes on; its lock keeps a later run from
 * overlapping it). Each attempt enqueues its own job, so a retried run
 * generates again rather than waiting on a job that already failed.
 */
export async function generateKnowledgeRun(
  data: JobData<'maintenance', 'generate-knowledge'>,
  ctx: JobContext,
  deps: GenerateKnowledgeRunDeps,
): Promise<GenerateKnowledgeRunResult> {
  const job = await deps.producer.enqueue(
    QueueName.aggregate,
    'generate-knowledge',
    { correlationId: data.correlationId ?? ctx.correlationId },
    // Scheduler job ids hold ':', which BullMQ refuses in custom ids.
    { priority: Priority.LOW, jobId: `generate-knowledge-${String(ctx.job.id).replace(/:/g, '-')}-${ctx.job.attemptsMade}` },
  );
  ctx.log.info({ aggregateJobId: job.id }, 'knowledge generation queued');
  const result: unknown = await job.waitUntilFinished(deps.aggregateEvents, deps.timeoutMs);
  return { aggregateJobId: String(job.id), result };
}
