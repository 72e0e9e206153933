export type { Embedder, ChatMessage, ChatModel } from './types.ts';
export { HashingEmbedder } from './hashing-embedder.ts';
export { OpenAIEmbedder } from './openai-embedder.ts';
export { OpenAIChatModel } from './openai-chat-model.ts';
export { CachedEmbedder } from './cached-embedder.ts';
export { ProviderError, parseRetryAfter, type ProviderErrorCode } from './provider-error.ts';
export { createEmbedder, createChatModel, type EmbeddingConfig } from './create-models.ts';
export { dot } from './vector.ts';
export { instrumentEmbedder, estimateTokens } from './instrumented-embedder.ts';
