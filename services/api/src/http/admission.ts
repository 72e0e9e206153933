import type { JobProducer, QueueName, Redis } from '@kbflow/queues';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { ApiError } from './api-error.ts';

export interface AdmissionOptions {
  /** Refuse when Redis used_memory / maxmemory reaches this (no maxmemory: no limit). */
  redisMemoryRatio: number;
  /** Refuse when the fed queue's waiting + prioritized + delayed jobs pass this. */
  maxBacklog: number;
  /** How long a measurement is reused; keeps admission off the Redis round trip of every request. */
  cacheMs?: number;
  /** A measurement slower than this lets the request through (admission is about load, not availability). */
  measureTimeoutMs?: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = { redisMemoryRatio: 0.9, maxBacklog: 100_000 };

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_SECONDS = 10;

const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed'] as const;

interface Cached<T> {
  at: number;
  value: Promise<T>;
}

/** used_memory and maxmemory from `INFO memory` (bytes; maxmemory 0 means none). */
export function parseMemoryInfo(info: string): { used: number; max: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { used: field('used_memory'), max: field('maxmemory') };
}

/**
 * Load shedding at the door. New NORMAL and lower work (crawls, scrapes,
 * batches, replays) is refused with 503 `overloaded` and Retry-After while
 * Redis is close to its maxmemory (where BullMQ's writes would start failing
 * under `noeviction`) or while the queue the request would feed is already
 * deeper than workers can plausibly drain. Queries and searches are never
 * routed through here: they stay served while the backlog sheds.
 *
 * Measurements are cached for about a second and shared by concurrent
 * requests, so a burst costs one `INFO` and one count per queue per second.
 */
export class AdmissionControl {
  private readonly redis: Redis;
  private readonly producer: JobProducer;
  private readonly opts: Required<AdmissionOptions>;
  private readonly log: Logger;
  private readonly rejected: Counter<'queue' | 'reason'>;
  private memory: Cached<{ used: number; max: number } | undefined> | undefined;
  private readonly backlogs = new Map<QueueName, Cached<number | undefined>>();

  constructor(deps: { redis: Redis; producer: JobProducer; log: Logger; registry: Registry }, opts: AdmissionOptions) {
    this.redis = deps.redis;
    this.producer = deps.producer;
    this.log = deps.log;
    this.opts = { cacheMs: 1000, measureTimeoutMs: 1000, ...opts };
    this.rejected = new Counter({
      name: 'kbflow_admission_rejected_total',
      help: 'Requests refused with 503 overloaded, by the queue they would have fed and the reason.',
      labelNames: ['queue', 'reason'],
      registers: [deps.registry],
    });
  }

  /** Throws a 503 `overloaded` ApiError when `queue` should take no new work now. */
  async assertAccepting(queue: QueueName): Promise<void> {
    const [memory, backlog] = await Promise.all([this.memoryNow(), this.backlogNow(queue)]);
    if (memory && memory.max > 0 && memory.used / memory.max >= this.opts.redisMemoryRatio) {
      this.rejected.inc({ queue, reason: 'redis_memory' });
      const percent = Math.round((memory.used / memory.max) * 100);
      throw overloaded(
        `Redis is at ${percent}% of its maxmemory (limit ${Math.round(this.opts.redisMemoryRatio * 100)}%); new work is refused until it drains`,
      );
    }
    if (backlog !== undefined && backlog > this.opts.maxBacklog) {
      this.rejected.inc({ queue, reason: 'backlog' });
      throw overloaded(`the ${queue} queue has ${backlog} jobs waiting (limit ${this.opts.maxBacklog}); new work is refused until it drains`);
    }
  }

  /** Middleware form of {@link assertAccepting} for a route that feeds `queue`. */
  admit(queue: QueueName): RequestHandler {
    return (_req, _res, next) => {
      this.assertAccepting(queue).then(() => next(), next);
    };
  }

  private memoryNow() {
    if (!this.memory || Date.now() - this.memory.at >= this.opts.cacheMs) {
      this.memory = { at: Date.now(), value: this.measure('redis memory', async () => parseMemoryInfo(await this.redis.info('memory'))) };
    }
    return this.memory.value;
  }

  private backlogNow(queue: QueueName) {
    let cached = this.backlogs.get(queue);
    if (!cached || Date.now() - cached.at >= this.opts.cacheMs) {
      cached = {
        at: Date.now(),
        value: this.measure(`${queue} backlog`, async () => {
          const counts = await this.producer.queue(queue).getJobCounts(...BACKLOG_STATES);
          return BACKLOG_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
        }),
      };
      this.backlogs.set(queue, cached);
    }
    return cached.value;
  }

  /** Runs a measurement with a deadline; a failed or slow one reads as "unknown" and admits. */
  private measure<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn({ what, timeoutMs: this.opts.measureTimeoutMs }, 'admission measurement timed out; admitting');
        resolve(undefined);
      }, this.opts.measureTimeoutMs);
    });
    const measured = run().catch((err: unknown) => {
      this.log.warn({ err, what }, 'admission measurement failed; admitting');
      return undefined;
    });
    return Promise.race([measured, deadline]).finally(() => clearTimeout(timer));
  }
}

function overloaded(message: string): ApiError {
  return new ApiError(503, 'overloaded', message, { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } });
}
