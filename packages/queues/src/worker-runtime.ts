import { createDb, TenantLimitsCache, TenantRepository, type Db } from '@kbflow/db';
import { createLogger, createMetrics, startTracing, type Logger, type ReadinessCheck, type Tracing, type TracingOptions } from '@kbflow/observability';
import type { Worker } from 'bullmq';
import type { Registry } from 'prom-client';
import type { QueueName } from './catalog.ts';
import { createRedis, type Redis } from './connection.ts';
import { createWorker, type CreateWorkerOptions } from './create-worker.ts';
import { JobProducer } from './producer.ts';
import { TenantSlots } from './tenant-slots.ts';
import { runWorkerService } from './worker-service.ts';

/** The clients every service builds, api and workers alike (a service's env.ts maps its variables to these). */
export interface ServiceClientOptions {
  service: string;
  logLevel: string;
  tracing: TracingOptions;
  redisUrl: string;
  databaseUrl: string;
  /** PostgreSQL connections of this process at most. */
  dbPoolSize: number;
  queuePrefix: string;
  /** Attempts per queue where the catalog's default does not fit. */
  jobAttempts?: Partial<Record<string, number>> | undefined;
}

/** What {@link createServiceClients} built, in the order it built them. */
export interface ServiceClients {
  service: string;
  log: Logger;
  /** Undefined with tracing off. */
  tracing: Tracing | undefined;
  registry: Registry;
  redis: Redis;
  db: Db;
  producer: JobProducer;
  /** The queues' Redis key prefix (also that of every other key kbflow keeps there). */
  prefix: string;
}

/**
 * The logger, tracing, metrics registry, Redis, PostgreSQL and the typed
 * producer, in that order: tracing starts before any client is built,
 * because database clients, workers and the app decide at construction
 * whether to trace (docs/tracing.md). Off, it loads nothing.
 */
export async function createServiceClients(opts: ServiceClientOptions): Promise<ServiceClients> {
  const log = createLogger(opts.service, opts.logLevel);
  const tracing = await startTracing(opts.service, opts.tracing, log);
  const { registry } = createMetrics(opts.service);
  const redis = createRedis(opts.redisUrl);
  const db = createDb(opts.databaseUrl, { poolSize: opts.dbPoolSize });
  const producer = new JobProducer(redis, opts.queuePrefix, opts.jobAttempts ? { attempts: opts.jobAttempts } : {});
  return { service: opts.service, log, tracing, registry, redis, db, producer, prefix: opts.queuePrefix };
}

export interface WorkerRuntimeOptions extends ServiceClientOptions {
  metricsPort: number;
  metricsHost: string;
  shutdownTimeoutMs: number;
  /** Every worker's lock duration and stalled-job check interval (see {@link CreateWorkerOptions}). */
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** A worker of the runtime: the queue, its handlers and how many jobs at once; the rest is the runtime's. */
export type RuntimeWorkerOptions<Q extends QueueName> = Pick<CreateWorkerOptions<Q>, 'queue' | 'handlers' | 'concurrency'> & {
  /** Each tenant's share of these workers (its maxConcurrentProcessing) binds: its jobs over it wait, delayed, attempts intact. */
  tenantLimited?: boolean;
};

/** A step of the shutdown, run after the workers have drained and before Redis closes. */
export interface CloseStep {
  name: string;
  fn: () => Promise<unknown>;
}

/** The shared parts of a worker service; see {@link createWorkerRuntime}. */
export interface WorkerRuntime extends ServiceClients {
  /** The readiness checks so far: Redis and PostgreSQL, then what {@link addCheck} added. */
  readonly checks: ReadinessCheck[];
  /** One more readiness check (the vector store, ...). */
  addCheck(check: ReadinessCheck): void;
  /** A worker with the runtime's connection, producer, logger, metrics and lock settings. */
  worker<Q extends QueueName>(opts: RuntimeWorkerOptions<Q>): Worker;
  /** A step of the shutdown; steps run in the order they were added, before PostgreSQL and tracing close. */
  onClose(name: string, fn: () => Promise<unknown>): void;
  /** The tenants' shares of the workers, for a handler that takes its tenant's share itself (the scraper, with its host's slot). */
  tenantSlots(): TenantSlots;
  /** Serves health and metrics, starts the heartbeat and listens for SIGTERM/SIGINT (see {@link runWorkerService}). */
  start(): Promise<{ port: number }>;
}

/**
 * What every worker service's `main.ts` used to build by hand: the
 * service's clients ({@link createServiceClients}), its workers with the
 * shared settings, the tenant slots of the workers that honour tenant limits,
 * readiness checks, and one ordered shutdown. `main.ts` adds its own clients,
 * handlers and close steps, then calls `start()`.
 *
 * Shutdown order: health server, heartbeat, workers, queues, the service's
 * own steps (as added), PostgreSQL, tracing (last of the service's: it
 * flushes the spans of everything above), Redis.
 */
export async function createWorkerRuntime(opts: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const clients = await createServiceClients(opts);
  const { redis, db, producer, log, registry, tracing } = clients;
  const checks: ReadinessCheck[] = [
    { name: 'redis', check: () => redis.ping() },
    { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
  ];
  const workers: Worker[] = [];
  const closeSteps: CloseStep[] = [];
  let tenantSlots: TenantSlots | undefined;
  const slots = (): TenantSlots => {
    if (!tenantSlots) {
      const limits = new TenantLimitsCache(new TenantRepository(db));
      tenantSlots = new TenantSlots({ redis, prefix: clients.prefix, limitOf: async (id) => (await limits.limitsOf(id)).maxConcurrentProcessing });
    }
    return tenantSlots;
  };
  return {
    ...clients,
    checks,
    addCheck: (check) => void checks.push(check),
    worker: (worker) => {
      const built = createWorker({
        queue: worker.queue,
        handlers: worker.handlers,
        ...(worker.concurrency !== undefined ? { concurrency: worker.concurrency } : {}),
        ...(worker.tenantLimited ? { tenantSlots: slots() } : {}),
        connection: redis,
        producer,
        log,
        registry,
        lockDurationMs: opts.lockDurationMs,
        stalledIntervalMs: opts.stalledIntervalMs,
      });
      workers.push(built);
      return built;
    },
    onClose: (name, fn) => void closeSteps.push({ name, fn }),
    tenantSlots: slots,
    start: () =>
      runWorkerService({
        service: opts.service,
        log,
        registry,
        redis,
        producer,
        workers,
        checks,
        metricsPort: opts.metricsPort,
        metricsHost: opts.metricsHost,
        shutdownTimeoutMs: opts.shutdownTimeoutMs,
        close: [...closeSteps, { name: 'postgres', fn: () => db.$disconnect() }, ...(tracing ? [{ name: 'tracing', fn: () => tracing.shutdown() }] : [])],
      }),
  };
}
