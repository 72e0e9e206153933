import type { ChatModel, Embedder } from './types.ts';

/** Runs a call through a guard (a circuit breaker); the guard decides whether it happens. */
export type ModelGuard = <T>(call: () => Promise<T>) => Promise<T>;

/** Routes an embedder's provider calls through a guard (the provider's circuit breaker). */
export function guardEmbedder(inner: Embedder, guard: ModelGuard): Embedder {
  return { model: inner.model, dimensions: inner.dimensions, embed: (texts, opts) => guard(() => inner.embed(texts, opts)) };
}

/**
 * Routes a chat model's calls through the same kind of guard. A stream is
 * guarded up to its first piece (connecting and the provider's first
 * answer, where an outage shows); the rest flows unguarded.
 */
export function guardChatModel(inner: ChatModel, guard: ModelGuard): ChatModel {
  const guarded: ChatModel = { model: inner.model, complete: (messages, opts) => guard(() => inner.complete(messages, opts)) };
  if (inner.stream) {
    const stream = inner.stream.bind(inner);
    guarded.stream = async function* (messages, opts) {
      const iterator = stream(messages, opts)[Symbol.asyncIterator]();
      const first = await guard(() => iterator.next());
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    };
  }
  return guarded;
}
