import { HashingEmbedder } from './hashing-embedder.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';
import type { ChatModel, Embedder } from './types.ts';

/** The provider's settings (a service's env.ts maps its variables to these). */
export interface ProviderModelOptions {
  /** The OpenAI-compatible provider's key; absent or blank: offline models. */
  apiKey?: string | undefined;
  baseUrl?: string | undefined;
  embeddingModel: string;
  /** Absent: the model's native size (the hashing embedder's own without a key). */
  embeddingDimensions?: number | undefined;
  chatModel: string;
}

function apiKeyOf(opts: Pick<ProviderModelOptions, 'apiKey'>): string | undefined {
  const key = opts.apiKey?.trim();
  return key ? key : undefined;
}

/**
 * The configured embedder: an {@link OpenAIEmbedder} when an API key is set,
 * otherwise the offline {@link HashingEmbedder}. `embeddingDimensions` sizes either.
 */
export function createEmbedder(opts: Omit<ProviderModelOptions, 'chatModel'>, hooks: { onResponseHeaders?: (headers: Headers) => void } = {}): Embedder {
  const apiKey = apiKeyOf(opts);
  if (apiKey === undefined) {
    return new HashingEmbedder(opts.embeddingDimensions !== undefined ? { dimensions: opts.embeddingDimensions } : {});
  }
  return new OpenAIEmbedder({
    apiKey,
    model: opts.embeddingModel,
    ...(opts.baseUrl !== undefined ? { baseURL: opts.baseUrl } : {}),
    ...(opts.embeddingDimensions !== undefined ? { dimensions: opts.embeddingDimensions } : {}),
    ...(hooks.onResponseHeaders ? { onResponseHeaders: hooks.onResponseHeaders } : {}),
  });
}

/**
 * The configured chat model: an {@link OpenAIChatModel} when an API key is
 * set, otherwise undefined, and answers are extractive.
 */
export function createChatModel(opts: Pick<ProviderModelOptions, 'apiKey' | 'baseUrl' | 'chatModel'>): ChatModel | undefined {
  const apiKey = apiKeyOf(opts);
  if (apiKey === undefined) return undefined;
  return new OpenAIChatModel({
    apiKey,
    model: opts.chatModel,
    ...(opts.baseUrl !== undefined ? { baseURL: opts.baseUrl } : {}),
  });
}
