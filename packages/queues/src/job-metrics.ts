import { Counter, Histogram, type Registry } from 'prom-client';

export interface JobMetrics {
  duration: Histogram<'queue' | 'job_name' | 'outcome'>;
  total: Counter<'queue' | 'job_name' | 'outcome'>;
  deadLettered: Counter<'queue' | 'job_name'>;
  deferred: Counter<'queue' | 'reason'>;
}

// The job name's label is `job_name`: `job` is the label Prometheus gives
// every scrape target, and the two would overwrite each other.
const byRegistry = new WeakMap<Registry, JobMetrics>();

/** Job metrics of a registry, created once however many workers the process runs. */
export function jobMetrics(registry: Registry): JobMetrics {
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    metrics = {
      duration: new Histogram({
        name: 'kbflow_job_duration_seconds',
        help: 'Time spent processing a job, by queue, job name and outcome.',
        labelNames: ['queue', 'job_name', 'outcome'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      }),
      total: new Counter({
        name: 'kbflow_jobs_total',
        help: 'Jobs processed, by queue, job name and outcome (completed, retried, failed, rate_limited, deferred).',
        labelNames: ['queue', 'job_name', 'outcome'],
        registers: [registry],
      }),
      deadLettered: new Counter({
        name: 'kbflow_dead_letters_total',
        help: 'Jobs moved to the dead-letter queue after their last attempt.',
        labelNames: ['queue', 'job_name'],
        registers: [registry],
      }),
      deferred: new Counter({
        name: 'kbflow_jobs_deferred_total',
        help: 'Jobs put back to wait without spending an attempt, by queue and reason (host-backoff, tenant-limit, database-unavailable, ...).',
        labelNames: ['queue', 'reason'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
