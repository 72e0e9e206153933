import { AppError } from '@kbflow/errors';
import type { ProviderRateLimiter } from './provider-rate-limiter.ts';
import type { ChatMessage, ChatModel, Embedder } from './types.ts';

// The embedder and chat model seen through a ProviderRateLimiter: what each
// provider request costs, and taking and settling its room around the call.

/** Tokens of a text as the limiter counts them (characters / 4, as instrumentEmbedder and the fake provider do). */
function tokensOf(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits texts into consecutive groups of at most `maxTokens` tokens each (a text over it goes alone). */
export function batchByTokens(texts: string[], maxTokens: number): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const text of texts) {
    const t = tokensOf(text);
    if (current.length > 0 && tokens + t > maxTokens) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(text);
    tokens += t;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Notes a provider 429 (not the limiter's own refusal) and passes the error on. */
async function noteFailure(limiter: ProviderRateLimiter, error: unknown): Promise<never> {
  if (error instanceof AppError && error.rateLimited) await limiter.rateLimited(error.retryAfterMs).catch(() => undefined);
  throw error;
}

/**
 * An embedder whose provider requests first take room in the shared limits:
 * texts go in requests of at most {@link ProviderRateLimiter.maxRequestTokens}
 * tokens (batches sized by tokens, not only by count), each admitted by the
 * limiter before it is sent.
 */
export function rateLimitEmbedder(inner: Embedder, limiter: ProviderRateLimiter): Embedder {
  return {
    model: inner.model,
    dimensions: inner.dimensions,
    embed: async (texts, opts) => {
      const vectors: number[][] = [];
      for (const batch of batchByTokens(texts, limiter.maxRequestTokens)) {
        const entry = await limiter.acquire(batch.reduce((sum, t) => sum + tokensOf(t), 0));
        const result = await inner.embed(batch, opts).catch(async (error: unknown) => {
          await limiter.settle(entry).catch(() => undefined);
          return noteFailure(limiter, error);
        });
        await limiter.settle(entry).catch(() => undefined);
        vectors.push(...result);
        await limiter.succeeded().catch(() => undefined);
      }
      return vectors;
    },
  };
}

/** A chat model under the shared limits: each call counts its prompt and the reply it allows (maxTokens, 512 when unset). */
export function rateLimitChatModel(inner: ChatModel, limiter: ProviderRateLimiter): ChatModel {
  const cost = (messages: ChatMessage[], maxTokens: number | undefined) => messages.reduce((sum, m) => sum + tokensOf(m.content), 0) + (maxTokens ?? 512);
  const limited: ChatModel = {
    model: inner.model,
    complete: async (messages, opts) => {
      const entry = await limiter.acquire(cost(messages, opts?.maxTokens));
      try {
        return await inner.complete(messages, opts).catch((error: unknown) => noteFailure(limiter, error));
      } finally {
        await limiter.settle(entry).catch(() => undefined);
        await limiter.succeeded().catch(() => undefined);
      }
    },
  };
  if (inner.stream) {
    const stream = inner.stream.bind(inner);
    limited.stream = async function* (messages, opts) {
      const entry = await limiter.acquire(cost(messages, opts?.maxTokens));
      try {
        yield* stream(messages, opts);
      } catch (error) {
        await noteFailure(limiter, error);
      } finally {
        await limiter.settle(entry).catch(() => undefined);
      }
      await limiter.succeeded().catch(() => undefined);
    };
  }
  return limited;
}
