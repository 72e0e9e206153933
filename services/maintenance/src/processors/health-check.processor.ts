import { ALL_QUEUES, type JobContext, type JobProducer } from '@kbflow/queues';
import type { Gauge } from 'prom-client';

export interface HealthCheckDeps {
  checks: { name: string; check: () => Promise<unknown> }[];
  producer: JobProducer;
  /** kbflow_dependency_up{dependency}: 1 when the last check passed. */
  gauge: Gauge<'dependency'>;
}

export interface HealthReport {
  dependencies: Record<string, { ok: boolean; ms: number; error?: string }>;
  queues: Record<string, Record<string, number>>;
}

/**
 * The scheduled health check: probes every dependency, records the result as
 * a gauge, and snapshots queue counts so a backlog shows in the job history.
 */
export async function healthCheck(ctx: JobContext, deps: HealthCheckDeps): Promise<HealthReport> {
  const dependencies: HealthReport['dependencies'] = {};
  for (const { name, check } of deps.checks) {
    const started = performance.now();
    try {
      await check();
      dependencies[name] = { ok: true, ms: Math.round(performance.now() - started) };
      deps.gauge.set({ dependency: name }, 1);
    } catch (error) {
      dependencies[name] = { ok: false, ms: Math.round(performance.now() - started), error: (error as Error).message };
      deps.gauge.set({ dependency: name }, 0);
    }
  }
  const queues: HealthReport['queues'] = {};
  for (const name of ALL_QUEUES) {
    queues[name] = await deps.producer.queue(name).getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed');
  }
  const failing = Object.entries(dependencies).filter(([, d]) => !d.ok).map(([n]) => n);
  if (failing.length > 0) ctx.log.warn({ failing }, 'health check found failing dependencies');
  else ctx.log.info('health check passed');
  return { dependencies, queues };
}
