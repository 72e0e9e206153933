import type { Job } from 'bullmq';
import { decodeError, describeErrorData } from '@kbflow/errors';
import type { Redis } from 'ioredis';
import { ALL_QUEUES, QueueName } from './catalog.ts';
import { Priority } from './priorities.ts';
import type { JobProducer } from './producer.ts';

/** Queues a dead letter can come from (every queue but the dead-letter queue itself). */
export const DEAD_LETTER_ORIGINS = ALL_QUEUES.filter((q) => q !== QueueName.deadLetter) as [QueueName, ...QueueName[]];

/** Dead letters wait in these states: nothing consumes the queue, so they never move on. */
export const DEAD_LETTER_STATES = ['prioritized', 'waiting'] as const;

/** Entries removed per Redis round trip by the sweep: bounded work per step, whatever the backlog. */
const BATCH = 500;

export interface DeadLetterRetention {
  /** Dead letters older than this are deleted by the sweep. */
  maxAgeMs: number;
  /** At most this many are kept; the oldest go first. */
  maxCount: number;
}

export interface DeadLetterSweepReport {
  /** Failed jobs whose dead letter was missing (the worker died between the two writes), written now. */
  recovered: number;
  /** Existing dead letters that were not in the index yet (written before it existed), indexed now. */
  indexed: number;
  expired: number;
  trimmed: number;
  /** Dead letters kept, by origin queue, and the age of the oldest (0 when none). */
  counts: Record<string, number>;
  oldestAgeSeconds: number;
}

/** What a dead letter records of its failed job. */
export interface DeadLetterRecord {
  queue: string;
  jobName: string;
  jobId: string;
  data: unknown;
  error: string;
  attemptsMade: number;
  failedAt: string;
  stacktrace: string[];
}

/**
 * The dead-letter queue with what BullMQ does not give it: an index per
 * origin queue (so `GET /v1/dead-letters?queue=` reads one page, not every
 * entry), retention by age and count, and the sweep that the worker wrapper
 * relies on. All of it lives in Redis beside the queue, in sorted sets scored
 * by the time of failure:
 *
 * - `<prefix>:dead-letter:index:all` and `...:index:<queue>`: the entries;
 * - `<prefix>:dead-letter:handled`: ids of entries replayed, deleted or past
 *   retention, so the sweep does not write them again from the failed set of
 *   their queue (BullMQ keeps failed jobs 7 days, see job-options.ts).
 *
 * A crash between the dead letter and its index entries is repaired by the
 * next sweep (it indexes what the queue holds and the index lacks).
 */
export class DeadLetters {
  readonly #producer: JobProducer;
  readonly #connection: Redis;

  /** `connection`: the queues' Redis (the producer's). */
  constructor(producer: JobProducer, connection: Redis) {
    this.#producer = producer;
    this.#connection = connection;
  }

  #key(part: string): string {
    return `${this.#producer.prefix}:${QueueName.deadLetter}:${part}`;
  }

  get #queue() {
    return this.#producer.queue(QueueName.deadLetter);
  }

  #redis(): Redis {
    return this.#connection;
  }

  /** The dead letter's id for a failed job: one entry per failed job, however often it is written. */
  static idOf(queue: string, jobId: string): string {
    return `${queue}-${jobId}`;
  }

  /** Records a job that failed its last attempt. Writing it twice keeps one entry. */
  async record(record: DeadLetterRecord): Promise<void> {
    const id = DeadLetters.idOf(record.queue, record.jobId);
    // Dead letters are records, not work: nothing consumes this queue.
    await this.#producer.enqueue(QueueName.deadLetter, 'dead-letter', record, {
      priority: Priority.LOW,
      jobId: id,
      removeOnComplete: false,
      removeOnFail: false,
    });
    await this.#index(id, record.queue, Date.parse(record.failedAt) || Date.now());
  }

  async #index(id: string, queue: string, at: number): Promise<void> {
    const redis = this.#redis();
    await redis
      .multi()
      .zadd(this.#key('index:all'), 'NX', at, id)
      .zadd(this.#key(`index:${queue}`), 'NX', at, id)
      .exec();
  }

  /** One page of an origin queue's dead letters, newest first, and how many it has. */
  async page(queue: QueueName, offset: number, limit: number): Promise<{ total: number; jobs: Job[] }> {
    const redis = this.#redis();
    const key = this.#key(`index:${queue}`);
    const [total, ids] = await Promise.all([redis.zcard(key), redis.zrevrange(key, offset, offset + limit - 1)]);
    const jobs = (await Promise.all(ids.map((id) => this.#queue.getJob(id)))).filter((job): job is Job => job !== undefined);
    return { total, jobs };
  }

  /** Removes an entry (replayed or deleted) and remembers it as handled. */
  async remove(job: Job): Promise<void> {
    await job.remove();
    await this.#forget([{ id: String(job.id), queue: (job.data as { queue?: unknown }).queue }]);
  }

  async #forget(entries: { id: string; queue: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    const redis = this.#redis();
    const now = Date.now();
    const tx = redis.multi();
    for (const { id, queue } of entries) {
      tx.zrem(this.#key('index:all'), id);
      // An entry whose job is already gone names no queue: take it out of every origin's index.
      for (const origin of typeof queue === 'string' ? [queue] : DEAD_LETTER_ORIGINS) tx.zrem(this.#key(`index:${origin}`), id);
      tx.zadd(this.#key('handled'), now, id);
    }
    await tx.exec();
  }

  /**
   * The sweep (maintenance, with its health check): writes the dead letters
   * a dying worker did not, indexes entries the index lacks, applies
   * retention, and reports the counts for the gauges. Each step works in
   * batches of {@link BATCH}; the failed sets it reads are bounded by BullMQ's
   * own retention of failed jobs.
   */
  async sweep(retention: DeadLetterRetention, now = Date.now()): Promise<DeadLetterSweepReport> {
    const redis = this.#redis();
    // Handled ids are needed only while their failed job may still be in a failed set.
    await redis.zremrangebyscore(this.#key('handled'), '-inf', now - 8 * 24 * 3600 * 1000);

    let recovered = 0;
    for (const origin of DEAD_LETTER_ORIGINS) {
      const queue = this.#producer.queue(origin);
      for (let start = 0; ; start += BATCH) {
        const failed = await queue.getFailed(start, start + BATCH - 1);
        if (failed.length === 0) break;
        const ids = failed.map((job) => DeadLetters.idOf(origin, String(job.id)));
        const known = await this.#known(ids);
        for (const [i, job] of failed.entries()) {
          const id = ids[i]!;
          if (known[i] || (await this.#queue.getJob(id))) continue;
          await this.record({
            queue: origin,
            jobName: job.name,
            jobId: String(job.id),
            data: job.data,
            error: job.failedReason ? describeErrorData(decodeError(job.failedReason)) : 'unknown',
            attemptsMade: job.attemptsMade,
            failedAt: new Date(job.finishedOn ?? now).toISOString(),
            stacktrace: job.stacktrace ?? [],
          });
          recovered++;
        }
        if (failed.length < BATCH) break;
      }
    }

    // Entries written before the index existed, or whose index write was lost.
    let indexed = 0;
    const held = await this.#queue.getJobCounts(...DEAD_LETTER_STATES);
    const heldTotal = DEAD_LETTER_STATES.reduce((n, s) => n + (held[s] ?? 0), 0);
    if (heldTotal !== (await redis.zcard(this.#key('index:all')))) {
      for (const state of DEAD_LETTER_STATES) {
        for (let start = 0; ; start += BATCH) {
          const jobs = await this.#queue.getJobs([state], start, start + BATCH - 1);
          const inIndex = await this.#known(
            jobs.map((job) => String(job.id)),
            false,
          );
          for (const [i, job] of jobs.entries()) {
            if (inIndex[i]) continue;
            const d = job.data as { queue?: unknown; failedAt?: unknown };
            await this.#index(String(job.id), typeof d.queue === 'string' ? d.queue : 'unknown', Date.parse(String(d.failedAt)) || job.timestamp);
            indexed++;
          }
          if (jobs.length < BATCH) break;
        }
      }
    }

    const expired = await this.#removeWhile(async () => redis.zrangebyscore(this.#key('index:all'), '-inf', now - retention.maxAgeMs, 'LIMIT', 0, BATCH));
    const trimmed = await this.#removeWhile(async () => {
      const excess = (await redis.zcard(this.#key('index:all'))) - retention.maxCount;
      return excess > 0 ? redis.zrange(this.#key('index:all'), 0, Math.min(excess, BATCH) - 1) : [];
    });

    const counts: Record<string, number> = {};
    for (const origin of DEAD_LETTER_ORIGINS) counts[origin] = await redis.zcard(this.#key(`index:${origin}`));
    const oldest = await redis.zrange(this.#key('index:all'), 0, 0, 'WITHSCORES');
    const oldestAgeSeconds = oldest.length === 2 ? Math.max(0, (now - Number(oldest[1])) / 1000) : 0;
    return { recovered, indexed, expired, trimmed, counts, oldestAgeSeconds };
  }

  /** For each id, whether the index (and, unless `handledToo` is false, the handled set) has it: one round trip. */
  async #known(ids: string[], handledToo = true): Promise<boolean[]> {
    if (ids.length === 0) return [];
    const redis = this.#redis();
    const pipeline = redis.pipeline();
    for (const id of ids) {
      pipeline.zscore(this.#key('index:all'), id);
      if (handledToo) pipeline.zscore(this.#key('handled'), id);
    }
    const replies = ((await pipeline.exec()) ?? []).map(([error, value]: [Error | null, unknown]) => {
      if (error) throw error;
      return value !== null;
    });
    const step = handledToo ? 2 : 1;
    return ids.map((_, i) => replies[i * step]! || (handledToo && replies[i * step + 1]!));
  }

  /** Removes the entries `next` names, batch by batch, until it names none; returns how many. */
  async #removeWhile(next: () => Promise<string[]>): Promise<number> {
    let removed = 0;
    for (let ids = await next(); ids.length > 0; ids = await next()) {
      const jobs = await Promise.all(ids.map((id) => this.#queue.getJob(id)));
      await Promise.all(jobs.filter((job) => job !== undefined).map((job) => job.remove()));
      await this.#forget(ids.map((id, i) => ({ id, queue: (jobs[i]?.data as { queue?: unknown } | undefined)?.queue })));
      removed += ids.length;
    }
    return removed;
  }
}
