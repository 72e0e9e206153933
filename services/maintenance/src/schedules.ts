import { Priority, QueueName, SCHEDULE_NAMES, type JobInput, type JobProducer, type ScheduleName } from '@kbflow/queues';
import { toScheduleSpec, type ScheduleSpec } from './domain/schedule-spec.ts';

/** Each schedule's value as configured: an interval or a cron pattern (see domain/schedule-spec.ts). */
export type ScheduleConfig = Record<ScheduleName, string>;

/** The payload a scheduled run carries, per job. */
const TEMPLATE_DATA: { [N in ScheduleName]: JobInput<'maintenance', N> } = {
  'health-check': {},
  'compact-vector-store': { reason: 'schedule' },
  'case-sync': { trigger: 'schedule' },
  'generate-knowledge': { trigger: 'schedule' },
  'vectorization-sweep': { trigger: 'schedule' },
};

/**
 * Registers (or updates) every schedule as a BullMQ job scheduler keyed by
 * its name, running the maintenance job of the same name at LOW priority.
 *
 * `upsertJobScheduler` is idempotent: each iteration is one job whose id is
 * `repeat:<name>:<millis>`, so any number of replicas calling this at start
 * still produce one run per interval, and a restart does not add a run (the
 * pending iteration is replaced in place). With replicas configured
 * differently, the one that started last wins.
 */
export async function registerSchedules(producer: JobProducer, cfg: ScheduleConfig): Promise<Record<ScheduleName, ScheduleSpec>> {
  const queue = producer.queue(QueueName.maintenance);
  const registered = {} as Record<ScheduleName, ScheduleSpec>;
  for (const name of SCHEDULE_NAMES) {
    const spec = toScheduleSpec(cfg[name]);
    await queue.upsertJobScheduler(name, spec, { name, data: TEMPLATE_DATA[name], opts: { priority: Priority.LOW } });
    registered[name] = spec;
  }
  return registered;
}
