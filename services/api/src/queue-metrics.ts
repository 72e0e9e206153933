import { ALL_QUEUES, type JobProducer } from '@kbflow/queues';
import { Gauge, type Registry } from 'prom-client';

export const COUNTED_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'waiting-children', 'completed', 'failed'] as const;

/** How many of the next jobs to run are looked at for the oldest one's age. */
const OLDEST_SAMPLE = 50;

/**
 * The age of the oldest job among the next ones to run (waiting and
 * prioritized). Looking at the head of each list rather than every job keeps
 * a scrape cheap with a 100k-job backlog; the head is where the oldest jobs of
 * the highest priority are.
 */
async function oldestWaitingAgeSeconds(producer: JobProducer, queue: string, now = Date.now()): Promise<number> {
  const jobs = await producer.queue(queue as never).getJobs(['wait', 'prioritized'], 0, OLDEST_SAMPLE - 1, true);
  const oldest = jobs.reduce((min, job) => Math.min(min, job?.timestamp ?? min), now);
  return Math.max(0, (now - oldest) / 1000);
}

/**
 * Queue gauges collected when Prometheus scrapes the api (one place, so a
 * queue is not counted once per replica of every service): jobs per queue and
 * state, and the age of the oldest waiting job. KEDA scales workers on these.
 */
export function registerQueueMetrics(producer: JobProducer, registry: Registry): void {
  new Gauge({
    name: 'kbflow_queue_jobs',
    help: 'Jobs per queue and state, read from Redis at scrape time.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(ALL_QUEUES.map((q) => producer.queue(q).getJobCounts(...COUNTED_STATES)));
      ALL_QUEUES.forEach((queue, i) => {
        for (const state of COUNTED_STATES) this.set({ queue, state }, counts[i]![state] ?? 0);
      });
    },
  });
  new Gauge({
    name: 'kbflow_queue_oldest_job_age_seconds',
    help: 'Age of the oldest job waiting to run (waiting or prioritized) per queue; 0 when none waits.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const ages = await Promise.all(ALL_QUEUES.map((q) => oldestWaitingAgeSeconds(producer, q)));
      ALL_QUEUES.forEach((queue, i) => this.set({ queue }, ages[i]!));
    },
  });
}
