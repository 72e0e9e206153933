import type { TenantWorkRepository } from '@kbflow/db';
import { ALL_QUEUES, listWorkers, type JobProducer, type Redis } from '@kbflow/queues';
import { listBreakers } from '@kbflow/resilience';
import { ApiRoutes } from '../http/route-registry.ts';
import { breakers, queueStats as queueStatsResponse, workers } from './ops-responses.ts';
import { percentile } from '../domain/percentile.ts';

/** Minutes of BullMQ metrics averaged for throughput and error rate. */
const WINDOW_MINUTES = 15;
/** Recent finished jobs sampled per queue for latency percentiles. */
const LATENCY_SAMPLE = 500;

type Metrics = { data: number[]; meta: { count?: number | string; prevCount?: number | string } };

/**
 * Jobs counted in the window: BullMQ writes one data point per finished
 * minute and keeps the running minute in `meta` (count - prevCount), so the
 * window is the last 15 whole minutes plus the current one.
 */
function recentCount(metrics: Metrics): number {
  const current = Number(metrics.meta.count ?? 0) - Number(metrics.meta.prevCount ?? 0);
  return metrics.data.slice(0, WINDOW_MINUTES).reduce((a, b) => a + Number(b), 0) + Math.max(0, current);
}

async function queueStats(producer: JobProducer, name: (typeof ALL_QUEUES)[number]) {
  const queue = producer.queue(name);
  const [completed, failed, recent] = await Promise.all([
    queue.getMetrics('completed', 0, WINDOW_MINUTES - 1),
    queue.getMetrics('failed', 0, WINDOW_MINUTES - 1),
    queue.getJobs(['completed'], 0, LATENCY_SAMPLE - 1),
  ]);
  const done = recentCount(completed);
  const errors = recentCount(failed);
  const processing = recent.filter((j) => j?.finishedOn && j.processedOn).map((j) => j.finishedOn! - j.processedOn!);
  const waiting = recent.filter((j) => j?.processedOn).map((j) => j.processedOn! - j.timestamp);
  const summary = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99) });
  return {
    name,
    windowMinutes: WINDOW_MINUTES,
    throughputPerMinute: { completed: done / WINDOW_MINUTES, failed: errors / WINDOW_MINUTES },
    errorRate: done + errors === 0 ? 0 : errors / (done + errors),
    latencyMs: { sample: processing.length, wait: summary(waiting), processing: summary(processing) },
    totals: { completed: Number(completed.meta.count ?? 0), failed: Number(failed.meta.count ?? 0) },
  };
}

/**
 * Operator endpoints: live replicas (`/v1/workers`), breakers and per-queue
 * statistics (`/v1/stats`). Queue figures mix every tenant's jobs, so only
 * the admin key sees them; a tenant key gets its own finished work over the
 * same window from its task rows (`scope: tenant`), how many replicas of
 * each service run and each breaker's state, never a hostname, a pid or a
 * replica id (kbflow issue 12 item 4).
 */
export function opsRoutes(producer: JobProducer, redis: Redis, tenantWork: TenantWorkRepository): ApiRoutes {
  const router = new ApiRoutes();

  router.get(
    '/workers',
    {
      operationId: 'listWorkers',
      summary: 'Live service replicas',
      tags: ['operations'],
      description: 'Every replica (host, pid, concurrency) with the admin key; only the count per service with a tenant key.',
      responses: { 200: { description: 'replicas by service', schema: workers } },
      example: {},
    },
    async (req, res) => {
      const workers = await listWorkers(redis, producer.prefix);
      const services: Record<string, number> = {};
      for (const w of workers) services[w.service] = (services[w.service] ?? 0) + 1;
      res.json(req.principal?.isAdmin ? { services, workers } : { services });
    },
  );

  router.get(
    '/circuit-breakers',
    {
      operationId: 'listCircuitBreakers',
      summary: 'Circuit breakers across replicas',
      tags: ['operations'],
      description: "Each replica's state with its instance id with the admin key; with a tenant key, the service and state only.",
      responses: { 200: { description: "every breaker with each replica's state", schema: breakers } },
      example: {},
    },
    async (req, res) => {
      const all = await listBreakers(redis, producer.prefix);
      res.json({
        breakers: req.principal?.isAdmin
          ? all
          : all.map((b) => ({ name: b.name, state: b.state, replicas: b.replicas.map((r) => ({ service: r.service, state: r.state })) })),
      });
    },
  );

  router.get(
    '/stats',
    {
      operationId: 'queueStats',
      summary: "Per-queue throughput, error rate and latency (admin), or the caller's own finished work",
      description:
        'The admin key sees every queue (`scope: all`); a tenant key sees its tasks finished in the same window and how long they took (`scope: tenant`).',
      tags: ['operations'],
      responses: { 200: { description: "one entry per queue, or the tenant's work", schema: queueStatsResponse } },
      example: {},
    },
    async (req, res) => {
      if (!req.principal?.isAdmin) {
        res.json({ scope: 'tenant', ...(await tenantWork.doneSince(req.principal!.tenantId, WINDOW_MINUTES * 60)) });
        return;
      }
      res.json({ scope: 'all', queues: await Promise.all(ALL_QUEUES.map((name) => queueStats(producer, name))) });
    },
  );

  return router;
}
