import type { Redis } from '@kbflow/queues';
import type { Logger } from '@kbflow/observability';
import { Counter, Gauge, type Registry } from 'prom-client';

const DRIFT_KINDS = ['unindexed', 'orphaned', 'missing'] as const;
type DriftKind = (typeof DRIFT_KINDS)[number];
export type DriftCounts = Record<DriftKind, number>;

/** Where a sweep reports the drift it measured, and how much of it it repaired. */
export interface DriftReporter {
  /** The drift found before any repair. */
  measured(drift: DriftCounts): Promise<void>;
  repaired(kind: DriftKind, count: number): void;
}

/**
 * `kbflow_vector_drift{kind}` and `kbflow_vector_drift_repairs_total{kind}`.
 *
 * The sweep runs on whichever replica takes the job, so a per-process gauge
 * would leave the other replicas exporting an old value forever. The last
 * measurement is kept in Redis instead and every replica's gauge reads it
 * at scrape time: all of them report the latest sweep (`max by (kind)` in
 * an alert is then right). Before the first sweep the series are absent.
 */
export function createDriftMetrics(opts: { registry: Registry; redis: Redis; prefix: string; log: Logger }): DriftReporter {
  const key = `${opts.prefix}:maintenance:vector-drift`;
  let last: Record<string, string> = {};
  const refresh = async () => {
    try {
      last = await opts.redis.hgetall(key);
    } catch (err) {
      // A scrape must not fail because Redis is away: keep the last values.
      opts.log.warn({ err }, 'could not read the last vector drift');
    }
  };
  new Gauge({
    name: 'kbflow_vector_drift',
    help: 'Drift between PostgreSQL and the vector store found by the latest vectorization sweep, before its repair (unindexed chunks, vectors without a row, indexed chunks without a vector).',
    labelNames: ['kind'],
    registers: [opts.registry],
    async collect() {
      await refresh();
      this.reset();
      for (const kind of DRIFT_KINDS) if (last[kind] !== undefined) this.set({ kind }, Number(last[kind]));
    },
  });
  new Gauge({
    name: 'kbflow_vector_drift_measured_timestamp_seconds',
    help: 'When the latest vectorization sweep measured the drift (Unix time).',
    registers: [opts.registry],
    async collect() {
      await refresh();
      this.reset();
      if (last.at !== undefined) this.set(Number(last.at) / 1000);
    },
  });
  const repairs = new Counter({
    name: 'kbflow_vector_drift_repairs_total',
    help: 'Drift repaired by vectorization sweeps: vectors deleted (orphaned), chunks reset (missing), chunks sent to the embedder (unindexed).',
    labelNames: ['kind'],
    registers: [opts.registry],
  });
  for (const kind of DRIFT_KINDS) repairs.inc({ kind }, 0);

  return {
    async measured(drift) {
      const values = { ...Object.fromEntries(Object.entries(drift).map(([k, v]) => [k, String(v)])), at: String(Date.now()) };
      await opts.redis.hset(key, values);
      last = values;
    },
    repaired(kind, count) {
      if (count > 0) repairs.inc({ kind }, count);
    },
  };
}
