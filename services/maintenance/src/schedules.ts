import { Priority, QueueName, type JobProducer } from '@kbflow/queues';

/** The schedules the maintenance service owns (BullMQ job schedulers). */
export interface ScheduleConfig {
  healthCheckEveryMs: number;
  compactEveryMs: number;
}

/**
 * Registers (or updates) every schedule. `upsertJobScheduler` is idempotent
 * and keyed by name, so any number of maintenance replicas can run this at
 * start and each run still happens once.
 */
export async function registerSchedules(producer: JobProducer, cfg: ScheduleConfig): Promise<string[]> {
  const queue = producer.queue(QueueName.maintenance);
  await queue.upsertJobScheduler(
    'health-check',
    { every: cfg.healthCheckEveryMs },
    { name: 'health-check', data: {}, opts: { priority: Priority.LOW } },
  );
  await queue.upsertJobScheduler(
    'compact-vector-store',
    { every: cfg.compactEveryMs },
    { name: 'compact-vector-store', data: { reason: 'schedule' }, opts: { priority: Priority.LOW } },
  );
  return ['health-check', 'compact-vector-store'];
}
