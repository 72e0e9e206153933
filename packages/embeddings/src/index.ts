export type { Embedder, EmbedOptions, ChatMessage, ChatModel } from './types.ts';
export { HashingEmbedder } from './hashing-embedder.ts';
export { OpenAIEmbedder } from './openai-embedder.ts';
export { OpenAIChatModel } from './openai-chat-model.ts';
export { CachedEmbedder } from './cached-embedder.ts';
export { ProviderError, parseRetryAfter, type ProviderErrorCode } from './provider-error.ts';
export { createEmbedder, createChatModel, type ProviderModelOptions } from './create-models.ts';
export { dot } from './vector.ts';
export { instrumentEmbedder, estimateTokens } from './instrumented-embedder.ts';
export { guardEmbedder, guardChatModel, type ModelGuard } from './guarded-models.ts';
export { STOPWORDS } from './tokenize.ts';
export {
  exhaustedFor,
  parseResetDuration,
  ProviderRateLimiter,
  providerLimiter,
  type ProviderLimitOptions,
  type ProviderLimits,
} from './provider-rate-limiter.ts';
export { batchByTokens, rateLimitChatModel, rateLimitEmbedder } from './rate-limited-models.ts';
