import { describe, expect, it } from '@jest/globals';
import type { Embedder } from '@kbflow/embeddings';
import { Registry } from 'prom-client';
import { normalizeQuery, QueryEmbeddingCache } from './query-embedding-cache.ts';

/** An embedder that records what it was asked; vector = [length, calls]. */
function countingEmbedder(): Embedder & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    model: 'm1',
    dimensions: 2,
    calls,
    embed: async (texts) => {
      calls.push(texts);
      return texts.map((t) => [t.length, calls.length]);
    },
  };
}

async function counter(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

describe('normalizeQuery', () => {
  it('folds whitespace and NFKC forms but keeps case', () => {
    expect(normalizeQuery('  How do I\tread\n ﬁles? ')).toBe('How do I read files?');
    expect(normalizeQuery('BullMQ')).toBe('BullMQ');
  });
});

const A = { tenantId: 'tenant-a' };
const B = { tenantId: 'tenant-b' };

describe('QueryEmbeddingCache', () => {
  it('embeds a query once; a repeat with other whitespace is a hit counted in the metrics', async () => {
    const inner = countingEmbedder();
    const registry = new Registry();
    const cache = new QueryEmbeddingCache(inner, { maxEntries: 10, registry });
    const first = await cache.embed(['read a file'], A);
    const second = await cache.embed(['  read   a file '], A);
    expect(second).toEqual(first);
    expect(inner.calls).toEqual([['read a file']]);
    expect(await counter(registry, 'kbflow_query_embedding_cache_hits_total')).toBe(1);
    expect(await counter(registry, 'kbflow_query_embedding_cache_misses_total')).toBe(1);
  });

  it('sends only the misses to the inner embedder, each distinct text once, in input order', async () => {
    const inner = countingEmbedder();
    const cache = new QueryEmbeddingCache(inner, { maxEntries: 10, registry: new Registry() });
    await cache.embed(['a'], A);
    const vectors = await cache.embed(['bb', 'a', 'bb', 'ccc'], A);
    expect(inner.calls[1]).toEqual(['bb', 'ccc']);
    expect(vectors.map((v) => v[0])).toEqual([2, 1, 2, 3]);
  });

  it('evicts the least recently used entry past its size', async () => {
    const inner = countingEmbedder();
    const cache = new QueryEmbeddingCache(inner, { maxEntries: 2, registry: new Registry() });
    await cache.embed(['a'], A);
    await cache.embed(['b'], A);
    await cache.embed(['a'], A);
    await cache.embed(['c'], A);
    expect(cache.size).toBe(2);
    await cache.embed(['b'], A);
    expect(inner.calls.flat()).toEqual(['a', 'b', 'c', 'b']);
  });

  it("keeps tenants apart: one tenant's question is never answered from another's entry, and a purge drops only its tenant's", async () => {
    const inner = countingEmbedder();
    const cache = new QueryEmbeddingCache(inner, { maxEntries: 10, registry: new Registry() });
    await cache.embed(['q'], A);
    await cache.embed(['q'], B);
    expect(inner.calls).toEqual([['q'], ['q']]);
    cache.purgeTenant('tenant-a');
    expect(cache.size).toBe(1);
    await cache.embed(['q'], B);
    expect(inner.calls).toHaveLength(2);
    await cache.embed(['q']);
    expect(inner.calls).toHaveLength(3);
  });

  it('with size 0 caches nothing and still embeds the normalized text', async () => {
    const inner = countingEmbedder();
    const cache = new QueryEmbeddingCache(inner, { maxEntries: 0, registry: new Registry() });
    await cache.embed([' x  y '], A);
    await cache.embed(['x y'], A);
    expect(inner.calls).toEqual([['x y'], ['x y']]);
    expect(cache.size).toBe(0);
  });
});
