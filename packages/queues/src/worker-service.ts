import { ShutdownManager, startHealthServer, type Logger, type ReadinessCheck } from '@kbflow/observability';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { startHeartbeat } from './heartbeat.ts';
import type { JobProducer } from './producer.ts';

export interface WorkerServiceOptions {
  service: string;
  log: Logger;
  registry: Registry;
  redis: Redis;
  producer: JobProducer;
  workers: Worker[];
  checks: ReadinessCheck[];
  metricsPort: number;
  metricsHost: string;
  shutdownTimeoutMs: number;
  /**
   * Closed after the workers have drained and before Redis and PostgreSQL go:
   * engines, the vector store, then the database client last.
   */
  close: { name: string; fn: () => Promise<unknown> }[];
}

/**
 * The runtime every worker service shares after its `main.ts` has built its
 * workers: the health/metrics server, the heartbeat `GET /v1/workers` reads,
 * and one shutdown in a fixed order (stop answering health checks, drain the
 * workers, close queues, the service's own clients, Redis) within the deadline.
 */
export async function runWorkerService(opts: WorkerServiceOptions): Promise<{ port: number }> {
  const health = await startHealthServer({ port: opts.metricsPort, host: opts.metricsHost, registry: opts.registry, checks: opts.checks });
  const heartbeat = startHeartbeat(opts.redis, opts.producer.prefix, {
    service: opts.service,
    concurrency: Object.fromEntries(opts.workers.map((w) => [w.name, w.concurrency])),
  });
  const shutdown = new ShutdownManager(opts.log, opts.shutdownTimeoutMs);
  shutdown.register('health server', () => health.close());
  shutdown.register('heartbeat', () => heartbeat.stop());
  shutdown.register('workers', () => Promise.all(opts.workers.map((w) => w.close())));
  shutdown.register('queues', () => opts.producer.close());
  for (const step of opts.close) shutdown.register(step.name, step.fn);
  shutdown.register('redis', () => opts.redis.quit());
  shutdown.listen();
  return { port: health.port };
}
