import { Priority, QueueName, type JobProducer } from '@kbflow/queues';
import { syntheticRecords } from '../data/synthetic-records.ts';

/** Texts per BULK `embed-texts` job of the backlog. */
export const TEXTS_PER_JOB = 2;
const ENQUEUE_CHUNK = 1000;

/** Jobs waiting to run in the embed queue (BULK jobs sit in the prioritized set). */
export async function backlogOf(producer: JobProducer): Promise<number> {
  const counts = await producer.queue(QueueName.embed).getJobCounts('prioritized', 'waiting', 'delayed');
  return (counts.prioritized ?? 0) + (counts.waiting ?? 0) + (counts.delayed ?? 0);
}

/** BULK `embed/embed-texts` jobs of distinct short ticket texts: real embedding work, nothing stored. */
export async function enqueueBacklog(producer: JobProducer, tenantId: string, jobs: number): Promise<void> {
  for (let start = 0; start < jobs; start += ENQUEUE_CHUNK) {
    const n = Math.min(ENQUEUE_CHUNK, jobs - start);
    const records = syntheticRecords(n * TEXTS_PER_JOB, `backlog-${start}`);
    await producer.enqueueBulk(
      QueueName.embed,
      'embed-texts',
      Array.from({ length: n }, (_, j) => ({
        data: { tenantId, texts: records.slice(j * TEXTS_PER_JOB, (j + 1) * TEXTS_PER_JOB).map((r) => `${r.title}\n${r.body.slice(0, 300)} ${r.id}`) },
        opts: { priority: Priority.BULK, removeOnComplete: true, removeOnFail: true },
      })),
    );
  }
}
