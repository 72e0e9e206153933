import type { SearchLogEntry, SearchLogRepository } from '@kbflow/db';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

export interface SearchLogWriterOptions {
  /** How often the buffer is written (ms); 1 s by default. */
  flushIntervalMs?: number;
  /** Rows per INSERT. */
  batchSize?: number;
  /** Rows held while PostgreSQL is slow or down; past this the oldest are dropped (and counted). */
  maxBuffered?: number;
}

/**
 * Writes the search log off the request path: `record` only appends to an
 * in-memory buffer, and a timer writes it every second in one INSERT per
 * batch. A buffered writer rather than one fire-and-forget INSERT per
 * request: under load that is one statement a second instead of hundreds,
 * and no request ever waits on, or fails because of, its log row. The cost
 * is that a crash loses at most the last second of log rows; shutdown
 * flushes (`close`). A failed write is logged and its rows dropped (counted
 * in `kbflow_search_logs_dropped_total`).
 */
export class SearchLogWriter {
  readonly #repository: SearchLogRepository;
  readonly #log: Logger;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #timer: NodeJS.Timeout;
  readonly #written: Counter;
  readonly #dropped: Counter;
  #buffer: SearchLogEntry[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(repository: SearchLogRepository, deps: { log: Logger; registry: Registry }, opts: SearchLogWriterOptions = {}) {
    this.#repository = repository;
    this.#log = deps.log;
    this.#batchSize = opts.batchSize ?? 500;
    this.#maxBuffered = opts.maxBuffered ?? 10_000;
    this.#written = new Counter({ name: 'kbflow_search_logs_written_total', help: 'Search log rows written.', registers: [deps.registry] });
    this.#dropped = new Counter({
      name: 'kbflow_search_logs_dropped_total',
      help: 'Search log rows dropped (buffer full or write failed).',
      registers: [deps.registry],
    });
    this.#timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 1000);
    // The log must never keep a process alive that is otherwise done.
    this.#timer.unref();
  }

  /** Queues one entry; never throws, never waits. */
  record(entry: SearchLogEntry): void {
    if (this.#closed) return;
    this.#buffer.push({ ...entry, createdAt: entry.createdAt ?? new Date() });
    if (this.#buffer.length > this.#maxBuffered) {
      const excess = this.#buffer.length - this.#maxBuffered;
      this.#buffer.splice(0, excess);
      this.#dropped.inc(excess);
    }
  }

  /** Writes everything buffered so far; resolves when written (or dropped after a failure). Never rejects. */
  flush(): Promise<void> {
    // Flushes run one after another, so batches are never written twice or out of order.
    this.#flushing = this.#flushing.then(() => this.#drain());
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#batchSize);
      try {
        this.#written.inc(await this.#repository.insertMany(batch));
      } catch (error) {
        this.#dropped.inc(batch.length);
        this.#log.error({ err: error, rows: batch.length }, 'search log write failed; rows dropped');
      }
    }
  }

  /** Stops the timer and writes what is left. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }
}
