import type { Redis } from 'ioredis';

/**
 * A streamed answer crosses the queue as a Redis Stream, one per job: the
 * aggregator appends events as it produces them and the api reads them from
 * the start, so an event written before the api began to read is not lost
 * (pub/sub would drop it). A client that disconnects sets the job's cancel
 * key; the aggregator polls it and stops the work. Both keys expire on
 * their own, so nothing outlives an abandoned request.
 */

/** Events of a streamed answer, in order: citations, answer (many), then done or error. */
export type QueryStreamEvent =
  | { event: 'citations'; data: { citations: unknown[]; mode: string; degraded?: string } }
  | { event: 'answer'; data: { text: string } }
  | { event: 'done'; data: { answeredBy: string; timings: Record<string, number> } }
  | { event: 'error'; data: { error: { code: string; message: string } } };

/** How long a stream's events and a cancel request are kept, s: far beyond any answer. */
const KEEP_SECONDS = 300;
/** Events kept per stream: an answer is at most a few hundred tokens. */
const MAX_EVENTS = 10_000;

export function queryStreamKey(prefix: string, jobId: string): string {
  return `${prefix}:query-stream:${jobId}`;
}

export function queryCancelKey(prefix: string, jobId: string): string {
  return `${prefix}:query-cancel:${jobId}`;
}

/** The aggregator's side: appends events to one job's stream. */
export class QueryStreamWriter {
  readonly #redis: Redis;
  readonly #key: string;
  #first = true;

  constructor(redis: Redis, prefix: string, jobId: string) {
    this.#redis = redis;
    this.#key = queryStreamKey(prefix, jobId);
  }

  async write(event: QueryStreamEvent): Promise<void> {
    const multi = this.#redis.multi().xadd(this.#key, 'MAXLEN', '~', String(MAX_EVENTS), '*', 'event', event.event, 'data', JSON.stringify(event.data));
    if (this.#first) multi.expire(this.#key, KEEP_SECONDS);
    this.#first = false;
    await multi.exec();
  }
}

/**
 * The api's side: reads one job's events from the start until `done` or
 * `error`, blocking at most `blockMs` per read; ends early when `signal`
 * aborts. Needs a connection of its own (XREAD BLOCK holds it).
 */
export async function* readQueryStreamEvents(
  redis: Redis,
  prefix: string,
  jobId: string,
  opts: { blockMs?: number; signal?: AbortSignal } = {},
): AsyncGenerator<QueryStreamEvent> {
  const key = queryStreamKey(prefix, jobId);
  let last = '0';
  while (!opts.signal?.aborted) {
    const reply = (await redis.xread('COUNT', 100, 'BLOCK', opts.blockMs ?? 1000, 'STREAMS', key, last)) as [string, [string, string[]][]][] | null;
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        last = id;
        const at = (name: string) => fields[fields.indexOf(name) + 1]!;
        const event = { event: at('event'), data: JSON.parse(at('data')) } as QueryStreamEvent;
        yield event;
        if (event.event === 'done' || event.event === 'error') return;
      }
    }
  }
}

/** Asks the aggregator to stop a job's work (the client went away). */
export async function requestQueryCancel(redis: Redis, prefix: string, jobId: string): Promise<void> {
  await redis.set(queryCancelKey(prefix, jobId), '1', 'EX', KEEP_SECONDS);
}

/**
 * Polls a job's cancel key every `intervalMs` and aborts the returned
 * signal once it is set; `stop()` ends the polling. A poll is one EXISTS: at
 * the default 100 ms an answer of a few seconds costs a few dozen.
 */
export function watchQueryCancel(redis: Redis, prefix: string, jobId: string, intervalMs = 100): { signal: AbortSignal; stop: () => void } {
  const controller = new AbortController();
  const key = queryCancelKey(prefix, jobId);
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      if ((await redis.exists(key).catch(() => 0)) === 1) {
        controller.abort(new Error('the client went away: query cancelled'));
        return;
      }
      await new Promise((r) => setTimeout(r, intervalMs).unref());
    }
  };
  void poll();
  return {
    signal: controller.signal,
    stop: () => {
      stopped = true;
    },
  };
}
