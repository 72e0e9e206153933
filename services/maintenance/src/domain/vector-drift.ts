/**
 * The drift between PostgreSQL's chunks and the vector store, computed one
 * tenant at a time: the vector ids are held in a set, the chunk rows stream
 * through in pages, and what is left over on either side is drift.
 */

/** One chunk row as the sweep reads it. */
export interface ChunkState {
  id: string;
  indexed: boolean;
  /**
   * Indexed before the sweep's cutoff (start minus the grace period). Only
   * those can be called missing: the embedder writes a vector before it
   * marks the row, so a row marked before the cutoff had its vector written
   * before the store was listed.
   */
  settled: boolean;
}

export interface DriftResult {
  /** Vector ids with no chunk row: deleted. */
  orphaned: string[];
  /** Chunks marked indexed (before the cutoff) whose vector is not in the store: marked not indexed and embedded again. */
  missing: string[];
}

/** Chunk ids are UUIDs; PostgreSQL prints them in lower case, a store may keep what it was given. */
const normalize = (id: string) => id.toLowerCase();

/**
 * Accumulates a tenant's drift: construct with every vector id the store
 * lists for the tenant, feed every chunk row of the tenant, then read
 * {@link result}. Memory is one set of the tenant's vector ids.
 */
export class VectorDiff {
  readonly #unmatched: Set<string>;
  readonly #missing: string[] = [];
  readonly #original = new Map<string, string>();

  constructor(vectorIds: Iterable<string>) {
    this.#unmatched = new Set();
    for (const id of vectorIds) {
      const key = normalize(id);
      this.#unmatched.add(key);
      this.#original.set(key, id);
    }
  }

  /** Feeds one page of chunk rows (any order, each row once). */
  addChunks(rows: readonly ChunkState[]): void {
    for (const row of rows) {
      const key = normalize(row.id);
      const hasVector = this.#unmatched.delete(key);
      if (!hasVector && row.indexed && row.settled) this.#missing.push(row.id);
    }
  }

  /** The drift after every row was fed; orphan ids are given as the store spelled them. */
  result(): DriftResult {
    return { orphaned: [...this.#unmatched].map((key) => this.#original.get(key)!), missing: [...this.#missing] };
  }
}

/** A document with chunks to (re-)embed. */
export interface PendingDocument {
  tenantId: string;
  documentId: string;
  contentType: string;
}

/** One `embed/embed-documents` job's worth of documents. */
export interface EmbedBatch {
  tenantId: string;
  weighting: 'none' | 'article';
  documentIds: string[];
}

/** The catalog's cap on documents per `embed-documents` job. */
const MAX_DOCUMENTS_PER_JOB = 1000;

/**
 * Groups documents into `embed-documents` jobs: one tenant and one weighting
 * per job (knowledge articles embed with title and summary weighted), at most
 * `max` documents each, in a stable order.
 */
export function embedBatches(docs: readonly PendingDocument[], max = MAX_DOCUMENTS_PER_JOB): EmbedBatch[] {
  const groups = new Map<string, EmbedBatch & { seen: Set<string> }>();
  for (const doc of docs) {
    const weighting = doc.contentType === 'article' ? 'article' : 'none';
    const key = `${doc.tenantId}/${weighting}`;
    let group = groups.get(key);
    if (!group) {
      group = { tenantId: doc.tenantId, weighting, documentIds: [], seen: new Set() };
      groups.set(key, group);
    }
    if (group.seen.has(doc.documentId)) continue;
    group.seen.add(doc.documentId);
    group.documentIds.push(doc.documentId);
  }
  const batches: EmbedBatch[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const ids = [...group.documentIds].sort();
    for (let i = 0; i < ids.length; i += max) {
      batches.push({ tenantId: group.tenantId, weighting: group.weighting, documentIds: ids.slice(i, i + max) });
    }
  }
  return batches;
}
