import { activeTraceCarrier, withSpan, type TraceCarrier } from '@kbflow/observability';
import type { VectorRecord, VectorStore } from '@kbflow/vector-store';

interface Pending {
  records: VectorRecord[];
  /** The caller's trace context (see ChunkBatcher: a write belongs to its callers' traces). */
  trace: TraceCarrier;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Default cap of one coalesced write, in vectors. */
const DEFAULT_MAX_RECORDS = 4000;

/**
 * Vector-store upserts of one process, coalesced: calls that arrive while a
 * write is running wait and go out together as the next write (up to
 * `maxRecords` vectors), and only one write runs at a time. On LanceDB
 * every upsert is a commit (a fragment, and a conflict to retry when two
 * writers commit at once): the concurrent jobs of one embedder, each
 * upserting its own documents, made as many commits and conflicted with one
 * another; coalesced they make one commit per write. A caller resolves
 * once its own vectors are written; a failed write fails every caller in
 * it (each job retries as it would have alone, and the upsert by id makes
 * the repeat harmless).
 */
export class CoalescingUpsert {
  readonly #store: Pick<VectorStore, 'upsert'>;
  readonly #maxRecords: number;
  #queue: Pending[] = [];
  #writing = false;

  constructor(store: Pick<VectorStore, 'upsert'>, opts: { maxRecords?: number } = {}) {
    this.#store = store;
    this.#maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
  }

  /** Resolves once `records` are written (together with whatever was waiting beside them). */
  upsert(records: VectorRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, trace: activeTraceCarrier(), resolve, reject });
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#writing || this.#queue.length === 0) return;
    const batch: Pending[] = [];
    let size = 0;
    while (this.#queue.length > 0 && (batch.length === 0 || size + this.#queue[0]!.records.length <= this.#maxRecords)) {
      const next = this.#queue.shift()!;
      batch.push(next);
      size += next.records.length;
    }
    this.#writing = true;
    const span = {
      parent: batch[0]!.trace,
      links: batch.slice(1).map((p) => p.trace),
      attributes: { 'kbflow.batch.callers': batch.length, 'kbflow.batch.records': size },
    };
    withSpan('vector upsert batch', span, () => this.#store.upsert(batch.length === 1 ? batch[0]!.records : lastPerId(batch.flatMap((p) => p.records))))
      .then(
        () => batch.forEach((p) => p.resolve()),
        (error: unknown) => batch.forEach((p) => p.reject(error)),
      )
      .finally(() => {
        this.#writing = false;
        this.#drain();
      });
  }
}

/** One record per id, the last one given (two jobs may carry the same chunk; a merge on id wants each source id once). */
function lastPerId(records: VectorRecord[]): VectorRecord[] {
  const byId = new Map<string, VectorRecord>();
  for (const r of records) byId.set(r.id, r);
  return byId.size === records.length ? records : [...byId.values()];
}
