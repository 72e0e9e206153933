import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EmbedOptions, Embedder } from './types.ts';

/** What one entry costs beyond its vector: the key (~100 UTF-16 bytes) and the LRU's bookkeeping, rounded up. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * An {@link Embedder} that remembers vectors so unchanged texts are not
 * paid for twice: an in-process LRU bounded in bytes (vectors as float32),
 * keyed by tenant, model and the text's SHA-256.
 *
 * Why in the process and not in Redis (kbflow issues 12 item 5, 14 item
 * 10): the queues' Redis runs with `noeviction`, so a cache there fills it
 * and then every queue write fails; a byte bound here cannot reach Redis at
 * all. The price is a cache per replica (a text embedded by one replica is
 * embedded again by another), which the per-tenant bound makes cheap to
 * accept. The tenant is part of the key, so a tenant can never be answered
 * from (or time) another's entries; a call without a tenant is not cached.
 */
export class CachedEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  /** Texts answered from the cache and texts sent to the inner embedder, since construction. */
  readonly stats = { hits: 0, misses: 0 };
  readonly #inner: Embedder;
  /** Absent with maxBytes 0: the cache is off, every text goes to the inner embedder. */
  readonly #cache: LRUCache<string, Float32Array> | undefined;

  /** @param opts.maxBytes the bound on the vectors held (and their keys); 0 turns the cache off */
  constructor(inner: Embedder, opts: { maxBytes: number }) {
    this.#inner = inner;
    this.model = inner.model;
    this.dimensions = inner.dimensions;
    const maxSize = opts.maxBytes;
    // lru-cache refuses a maxSize of 0, which here means "no cache".
    this.#cache = maxSize > 0 ? new LRUCache({ maxSize, sizeCalculation: (vector) => vector.byteLength + ENTRY_OVERHEAD_BYTES }) : undefined;
  }

  /** Bytes held now (never above the bound). */
  get bytes(): number {
    return this.#cache?.calculatedSize ?? 0;
  }

  /** Entries held now, all tenants. */
  get size(): number {
    return this.#cache?.size ?? 0;
  }

  /** The cache key of a tenant's text. */
  keyFor(tenantId: string, text: string): string {
    const digest = createHash('sha256').update(this.model).update('\0').update(text).digest('hex');
    return `${tenantId}\0${digest}`;
  }

  /** Entries held for one tenant. */
  sizeOf(tenantId: string): number {
    let n = 0;
    for (const key of this.#cache?.keys() ?? []) if (key.startsWith(`${tenantId}\0`)) n++;
    return n;
  }

  /** Drops every entry of a tenant (tenant purge). Walks the whole cache: a purge is rare. */
  purgeTenant(tenantId: string): number {
    const prefix = `${tenantId}\0`;
    const doomed = [...(this.#cache?.keys() ?? [])].filter((key) => key.startsWith(prefix));
    for (const key of doomed) this.#cache?.delete(key);
    return doomed.length;
  }

  /** Vectors from the cache where present, from the inner embedder otherwise (one batch); input order kept. */
  async embed(texts: string[], opts: EmbedOptions = {}): Promise<number[][]> {
    if (texts.length === 0) return [];
    const tenantOf = (i: number): string | undefined => (typeof opts.tenantId === 'string' ? opts.tenantId : opts.tenantId?.[i]);
    const keys = texts.map((text, i) => {
      const tenant = tenantOf(i);
      return tenant === undefined ? undefined : this.keyFor(tenant, text);
    });
    const vectors = new Array<number[] | undefined>(texts.length);
    // Each distinct missing (tenant, text) is embedded once, however often it repeats.
    const missing = new Map<string, number[]>();
    for (let i = 0; i < texts.length; i++) {
      const key = keys[i];
      const cached = key === undefined ? undefined : this.#cache?.get(key);
      if (cached !== undefined && cached.length === this.dimensions) {
        vectors[i] = Array.from(cached);
        continue;
      }
      const slot = key ?? `\u0001${i}`;
      const positions = missing.get(slot);
      if (positions) positions.push(i);
      else missing.set(slot, [i]);
    }
    const misses = [...missing.values()].reduce((sum, p) => sum + p.length, 0);
    this.stats.hits += texts.length - misses;
    this.stats.misses += misses;
    if (missing.size === 0) return vectors as number[][];

    const slots = [...missing.entries()];
    const fresh = await this.#inner.embed(
      slots.map(([, positions]) => texts[positions[0]!]!),
      opts.tenantId === undefined || typeof opts.tenantId === 'string' ? opts : { tenantId: slots.map(([, p]) => tenantOf(p[0]!)!) },
    );
    if (fresh.length !== slots.length) throw new Error(`inner embedder returned ${fresh.length} vectors for ${slots.length} texts`);
    slots.forEach(([slot, positions], j) => {
      // Stored and returned as float32, so a hit returns exactly what the miss did.
      const vector = Float32Array.from(fresh[j]!);
      const asArray = Array.from(vector);
      for (const position of positions) vectors[position] = asArray;
      if (keys[positions[0]!] !== undefined) this.#cache?.set(slot, vector);
    });
    return vectors as number[][];
  }
}
