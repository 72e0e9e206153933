import { Counter, type Registry } from 'prom-client';
import type { EmbedOptions, Embedder } from './types.ts';

interface EmbeddingMetrics {
  batches: Counter<'model'>;
  texts: Counter<'model'>;
  tokens: Counter<'model'>;
}

const byRegistry = new WeakMap<Registry, EmbeddingMetrics>();

/** Tokens of a text by the usual rule of thumb for English (four characters a token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Wraps an embedder (usually the cached one) to count batches, texts and
 * estimated input tokens. Wrapped outside the cache, it counts what callers
 * asked for; the cache's own hit/miss counts are on CachedEmbedder.stats.
 */
export function instrumentEmbedder(inner: Embedder, registry: Registry): Embedder {
  let m = byRegistry.get(registry);
  if (!m) {
    m = {
      batches: new Counter({
        name: 'kbflow_embedding_batches_total',
        help: 'Embedding batches requested, by model.',
        labelNames: ['model'],
        registers: [registry],
      }),
      texts: new Counter({ name: 'kbflow_embedding_texts_total', help: 'Texts embedded, by model.', labelNames: ['model'], registers: [registry] }),
      tokens: new Counter({
        name: 'kbflow_embedding_tokens_total',
        help: 'Input tokens embedded, by model, estimated as characters / 4.',
        labelNames: ['model'],
        registers: [registry],
      }),
    };
    byRegistry.set(registry, m);
  }
  const metrics = m;
  return {
    model: inner.model,
    dimensions: inner.dimensions,
    embed: async (texts: string[], opts?: EmbedOptions) => {
      const vectors = await inner.embed(texts, opts);
      metrics.batches.inc({ model: inner.model });
      metrics.texts.inc({ model: inner.model }, texts.length);
      metrics.tokens.inc(
        { model: inner.model },
        texts.reduce((n, t) => n + estimateTokens(t), 0),
      );
      return vectors;
    },
  };
}
