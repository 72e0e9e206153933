import type { ChatModel, Embedder } from './types.ts';

/** Runs a call through a guard (a circuit breaker); the guard decides whether it happens. */
export type ModelGuard = <T>(call: () => Promise<T>) => Promise<T>;

/** Routes an embedder's provider calls through a guard (the provider's circuit breaker). */
export function guardEmbedder(inner: Embedder, guard: ModelGuard): Embedder {
  return { model: inner.model, dimensions: inner.dimensions, embed: (texts) => guard(() => inner.embed(texts)) };
}

/** Routes a chat model's calls through the same kind of guard. */
export function guardChatModel(inner: ChatModel, guard: ModelGuard): ChatModel {
  return { model: inner.model, complete: (messages, opts) => guard(() => inner.complete(messages, opts)) };
}
