import type { EmbedOptions, Embedder } from '@kbflow/embeddings';
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';

/**
 * The form of a query that is embedded and cached: NFKC, trimmed, runs of
 * whitespace folded to one space. Case is kept: embedding models are case
 * sensitive, and folding it would make the cached vector depend on which
 * spelling was asked first.
 */
export function normalizeQuery(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ');
}

interface CacheMetrics {
  hits: Counter<'model'>;
  misses: Counter<'model'>;
}

const byRegistry = new WeakMap<Registry, CacheMetrics>();

function metricsFor(registry: Registry): CacheMetrics {
  let m = byRegistry.get(registry);
  if (!m) {
    m = {
      hits: new Counter({
        name: 'kbflow_query_embedding_cache_hits_total',
        help: 'Query embeddings answered from the in-process cache, by model.',
        labelNames: ['model'],
        registers: [registry],
      }),
      misses: new Counter({
        name: 'kbflow_query_embedding_cache_misses_total',
        help: 'Query embeddings not in the in-process cache, by model.',
        labelNames: ['model'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, m);
  }
  return m;
}

/**
 * An in-process LRU of query text -> vector in front of the aggregator's
 * embedder, keyed by model and normalized text. Popular questions then cost
 * no embedding call.
 *
 * It sits in front of the {@link CachedEmbedder}: this one is the
 * per-process first level, bounded by entry count, the byte-bounded
 * embedding cache the second. Entries are keyed by tenant too (a tenant is
 * never answered from, nor can time, another's); a call without a tenant is
 * not cached. With `maxEntries` 0 queries are only normalized, never cached.
 */
export class QueryEmbeddingCache implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly #inner: Embedder;
  // Float32Array: half the memory of number[] (a 1536-dimension vector is
  // 6 KB instead of 12 KB), the precision the vector stores keep anyway.
  readonly #cache: LRUCache<string, Float32Array> | undefined;
  readonly #metrics: CacheMetrics;

  constructor(inner: Embedder, opts: { maxEntries: number; registry: Registry }) {
    this.#inner = inner;
    this.model = inner.model;
    this.dimensions = inner.dimensions;
    this.#cache = opts.maxEntries > 0 ? new LRUCache({ max: opts.maxEntries }) : undefined;
    this.#metrics = metricsFor(opts.registry);
  }

  /** Drops a tenant's entries (tenant purge). */
  purgeTenant(tenantId: string): void {
    if (!this.#cache) return;
    for (const key of [...this.#cache.keys()]) if (key.startsWith(`${tenantId}\0`)) this.#cache.delete(key);
  }

  /** Entries held now (0 when disabled). */
  get size(): number {
    return this.#cache?.size ?? 0;
  }

  /**
   * Vectors of the normalized texts, from the cache where present; the
   * misses go to the inner embedder in one batch. With the cache on, every
   * vector is float32-rounded, so a hit returns exactly what the miss did.
   */
  async embed(texts: string[], opts: EmbedOptions = {}): Promise<number[][]> {
    const normalized = texts.map(normalizeQuery);
    const tenant = opts.tenantId;
    if (!this.#cache || typeof tenant !== 'string') return this.#inner.embed(normalized, opts);
    const keyOf = (text: string) => `${tenant}\0${this.model}\0${text}`;
    const cached = normalized.map((t) => this.#cache!.get(keyOf(t)));
    const missing = [...new Set(normalized.filter((_, i) => cached[i] === undefined))];
    const hits = cached.filter((v) => v !== undefined).length;
    if (hits > 0) this.#metrics.hits.inc({ model: this.model }, hits);
    const byText = new Map<string, Float32Array>();
    if (missing.length > 0) {
      this.#metrics.misses.inc({ model: this.model }, texts.length - hits);
      const fresh = await this.#inner.embed(missing, opts);
      missing.forEach((text, i) => {
        const vector = Float32Array.from(fresh[i]!);
        byText.set(text, vector);
        this.#cache!.set(keyOf(text), vector);
      });
    }
    return cached.map((v, i) => Array.from(v ?? byText.get(normalized[i]!)!));
  }
}
