import { randomUUID } from 'node:crypto';
import { AppError } from '@kbflow/errors';
import type { Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

export type BreakerState = 'closed' | 'half-open' | 'open';

/**
 * Thrown instead of calling a dependency whose breaker is open. Carries how
 * long until the half-open probe, so the worker can rate-limit its queue for
 * that long: jobs wait and keep their attempts.
 */
export class BreakerOpenError extends AppError {
  declare readonly retryAfterMs: number;
  readonly breaker: string;

  constructor(breaker: string, retryAfterMs: number) {
    super('breaker_open', `${breaker} is unavailable (circuit open); retrying in ${Math.ceil(retryAfterMs / 1000)} s`, { retryable: true, retryAfterMs });
    this.breaker = breaker;
  }
}

/** What a replica reports about one of its breakers (read by GET /v1/circuit-breakers). */
export interface BreakerReport {
  breaker: string;
  service: string;
  instanceId: string;
  state: BreakerState;
  since: string;
  /** When an open breaker lets its next probe through. */
  retryAt?: string;
  failures: number;
  successes: number;
  rejects: number;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
const REPORT_EVERY_MS = 10_000;
const REPORT_TTL_MS = 30_000;

interface BreakerMetrics {
  state: Gauge<'breaker'>;
  events: Counter<'breaker' | 'event'>;
}
const metricsByRegistry = new WeakMap<Registry, BreakerMetrics>();

function metricsOf(registry: Registry): BreakerMetrics {
  let m = metricsByRegistry.get(registry);
  if (!m) {
    m = {
      state: new Gauge({
        name: 'kbflow_circuit_breaker_state',
        help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.',
        labelNames: ['breaker'],
        registers: [registry],
      }),
      events: new Counter({
        name: 'kbflow_circuit_breaker_events_total',
        help: 'Circuit breaker events per dependency: failure, success, reject, timeout, open, half_open, close.',
        labelNames: ['breaker', 'event'],
        registers: [registry],
      }),
    };
    metricsByRegistry.set(registry, m);
  }
  return m;
}

export interface DependencyBreakerOptions {
  name: string;
  /** Consecutive failures that open the breaker (a success in between starts the count again). */
  failureThreshold: number;
  /** How long it stays open before a half-open probe. */
  resetTimeoutMs: number;
  /**
   * Which errors say the dependency is unhealthy. Others (a 400, a 429 rate
   * limit, a 404 page) pass through without counting. Default: errors whose
   * `retryable` is not false and that are not rate limits.
   */
  isFailure?: (error: unknown) => boolean;
  registry: Registry;
  log: Logger;
  service: string;
  /** Where replicas report their breakers (omit in unit tests). */
  report?: { redis: Redis; prefix: string };
}

/**
 * The default failure rule: transient errors count, rejections and rate
 * limits do not. A 429 says the dependency is healthy but busy: the queue
 * waits out its Retry-After instead (see createWorker), and the breaker stays
 * closed. An error that is not one of kbflow's (a socket reset, a bug in a
 * client library) counts.
 */
export function countsAsFailure(error: unknown): boolean {
  if (!(error instanceof AppError)) return true;
  return error.retryable && !error.rateLimited;
}

/**
 * One dependency behind an opossum circuit breaker. `run(fn)` calls through
 * while closed; after `failureThreshold` consecutive failures it opens and
 * rejects at once with {@link BreakerOpenError} for `resetTimeoutMs`; then one
 * half-open probe decides whether it closes again. State is a Prometheus
 * gauge, events a counter, and each replica reports its breakers to Redis
 * with a TTL.
 *
 * Opening is decided here, not by opossum: opossum opens on a percentage of
 * the calls in its rolling window once the window holds `volumeThreshold`
 * calls (fired, not failed), so "5" meant "5 calls, half of them failing",
 * and the calls in flight moved the moment. A count of consecutive failures
 * is what an operator reads "opens after 5 failures" as (Polly's and
 * resilience4j's count-based breakers work the same way). opossum keeps the
 * state machine: its reset timer, the half-open probe, and reopening when
 * the probe fails. Failures of calls that were in flight when it opened are
 * counted as events but not towards the next opening.
 */
export class DependencyBreaker {
  readonly name: string;
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly opts: DependencyBreakerOptions;
  private readonly instanceId = randomUUID();
  private since = new Date();
  private openedAt = 0;
  private reporter: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;

  constructor(opts: DependencyBreakerOptions) {
    this.name = opts.name;
    this.opts = opts;
    const isFailure = opts.isFailure ?? countsAsFailure;
    this.breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      name: opts.name,
      // Timeouts belong to the clients (undici, the OpenAI SDK, Playwright),
      // which know what a reasonable deadline is for their calls.
      timeout: false,
      resetTimeout: opts.resetTimeoutMs,
      // Never reached, so opossum's percentage rule never opens it (see the
      // class comment); a failed half-open probe still reopens it.
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingCountTimeout: 10_000,
      errorFilter: (error: unknown) => !isFailure(error),
    });
    const metrics = metricsOf(opts.registry);
    const setState = (state: BreakerState) => {
      this.since = new Date();
      metrics.state.set({ breaker: opts.name }, STATE_VALUE[state]);
      void this.report();
    };
    metrics.state.set({ breaker: opts.name }, 0);
    this.breaker.on('open', () => {
      const failures = this.consecutiveFailures;
      this.consecutiveFailures = 0;
      this.openedAt = Date.now();
      metrics.events.inc({ breaker: opts.name, event: 'open' });
      opts.log.warn({ breaker: opts.name, failures, resetTimeoutMs: opts.resetTimeoutMs }, 'circuit opened');
      setState('open');
    });
    this.breaker.on('halfOpen', () => {
      metrics.events.inc({ breaker: opts.name, event: 'half_open' });
      opts.log.info({ breaker: opts.name }, 'circuit half-open: probing');
      setState('half-open');
    });
    this.breaker.on('close', () => {
      this.consecutiveFailures = 0;
      metrics.events.inc({ breaker: opts.name, event: 'close' });
      opts.log.info({ breaker: opts.name }, 'circuit closed');
      setState('closed');
    });
    this.breaker.on('success', () => {
      this.consecutiveFailures = 0;
      metrics.events.inc({ breaker: opts.name, event: 'success' });
    });
    this.breaker.on('failure', () => {
      metrics.events.inc({ breaker: opts.name, event: 'failure' });
      if (!this.breaker.closed) return;
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= opts.failureThreshold) this.breaker.open();
    });
    this.breaker.on('reject', () => metrics.events.inc({ breaker: opts.name, event: 'reject' }));
    if (opts.report) {
      void this.report();
      this.reporter = setInterval(() => void this.report(), REPORT_EVERY_MS);
      this.reporter.unref();
    }
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  get retryAfterMs(): number {
    if (this.state !== 'open') return 0;
    return Math.max(1000, this.openedAt + this.opts.resetTimeoutMs - Date.now());
  }

  /** Calls the dependency through the breaker. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.breaker.fire(fn)) as T;
    } catch (error) {
      if ((error as { code?: string }).code === 'EOPENBREAKER') throw new BreakerOpenError(this.name, this.retryAfterMs);
      throw error;
    }
  }

  private async report(): Promise<void> {
    if (!this.opts.report) return;
    const stats = this.breaker.stats;
    const body: BreakerReport = {
      breaker: this.name,
      service: this.opts.service,
      instanceId: this.instanceId,
      state: this.state,
      since: this.since.toISOString(),
      ...(this.state === 'open' ? { retryAt: new Date(Date.now() + this.retryAfterMs).toISOString() } : {}),
      failures: stats.failures,
      successes: stats.successes,
      rejects: stats.rejects,
    };
    const { redis, prefix } = this.opts.report;
    await redis.set(`${prefix}:breaker:${this.name}:${this.instanceId}`, JSON.stringify(body), 'PX', REPORT_TTL_MS).catch(() => undefined);
  }

  /** Stops reporting and removes this replica's report. */
  async close(): Promise<void> {
    if (this.reporter) clearInterval(this.reporter);
    this.breaker.shutdown();
    if (this.opts.report) {
      const { redis, prefix } = this.opts.report;
      await redis.del(`${prefix}:breaker:${this.name}:${this.instanceId}`).catch(() => undefined);
    }
  }
}

/** Every replica's breaker reports, grouped by breaker, the worst state first. */
export async function listBreakers(redis: Redis, prefix: string): Promise<{ name: string; state: BreakerState; replicas: BreakerReport[] }[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:breaker:*`, 'COUNT', 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const reports = keys.length ? (await redis.mget(...keys)).filter((v): v is string => v !== null).map((v) => JSON.parse(v) as BreakerReport) : [];
  const byName = new Map<string, BreakerReport[]>();
  for (const r of reports) byName.set(r.breaker, [...(byName.get(r.breaker) ?? []), r]);
  return [...byName.entries()]
    .map(([name, replicas]) => ({
      name,
      state: replicas.reduce<BreakerState>((worst, r) => (STATE_VALUE[r.state] > STATE_VALUE[worst] ? r.state : worst), 'closed'),
      replicas: replicas.sort((a, b) => a.service.localeCompare(b.service) || a.instanceId.localeCompare(b.instanceId)),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** When a breaker opens and how long it stays open. */
export type BreakerThresholds = Pick<DependencyBreakerOptions, 'failureThreshold' | 'resetTimeoutMs'>;

/**
 * The two breakers of a service that embeds and reads vectors (embedder,
 * aggregator): the embedding/LLM provider's and the vector store's.
 */
export function providerAndVectorBreakers(
  thresholds: { provider: BreakerThresholds; vector: BreakerThresholds },
  base: Omit<DependencyBreakerOptions, 'name' | 'failureThreshold' | 'resetTimeoutMs'>,
): { provider: DependencyBreaker; vector: DependencyBreaker; close: () => Promise<void> } {
  const provider = new DependencyBreaker({ ...base, ...thresholds.provider, name: 'embedding-provider' });
  const vector = new DependencyBreaker({ ...base, ...thresholds.vector, name: 'vector-store' });
  return { provider, vector, close: async () => void (await Promise.all([provider.close(), vector.close()])) };
}
