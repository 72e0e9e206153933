import { HashingEmbedder } from './hashing-embedder.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';
import type { ChatModel, Embedder } from './types.ts';

const DEFAULT_EMBEDDING_MODEL = 'text-embedding-3-small';
const DEFAULT_CHAT_MODEL = 'gpt-4o-mini';

/** The settings this package reads, already parsed by the service's env schema. */
export interface EmbeddingConfig {
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  KBFLOW_EMBEDDING_MODEL?: string;
  KBFLOW_EMBEDDING_DIMENSIONS?: number;
  KBFLOW_CHAT_MODEL?: string;
}

function apiKeyOf(cfg: EmbeddingConfig): string | undefined {
  const key = cfg.OPENAI_API_KEY?.trim();
  return key ? key : undefined;
}

/**
 * The configured embedder: an {@link OpenAIEmbedder} (default model
 * `text-embedding-3-small`) when `OPENAI_API_KEY` is set, otherwise the
 * offline {@link HashingEmbedder}. `KBFLOW_EMBEDDING_DIMENSIONS` sizes either.
 */
export function createEmbedder(cfg: EmbeddingConfig, opts: { onResponseHeaders?: (headers: Headers) => void } = {}): Embedder {
  const apiKey = apiKeyOf(cfg);
  if (apiKey === undefined) {
    return new HashingEmbedder(cfg.KBFLOW_EMBEDDING_DIMENSIONS !== undefined ? { dimensions: cfg.KBFLOW_EMBEDDING_DIMENSIONS } : {});
  }
  return new OpenAIEmbedder({
    apiKey,
    model: cfg.KBFLOW_EMBEDDING_MODEL ?? DEFAULT_EMBEDDING_MODEL,
    ...(cfg.OPENAI_BASE_URL !== undefined ? { baseURL: cfg.OPENAI_BASE_URL } : {}),
    ...(cfg.KBFLOW_EMBEDDING_DIMENSIONS !== undefined ? { dimensions: cfg.KBFLOW_EMBEDDING_DIMENSIONS } : {}),
    ...(opts.onResponseHeaders ? { onResponseHeaders: opts.onResponseHeaders } : {}),
  });
}

/**
 * The configured chat model: an {@link OpenAIChatModel} (default
 * `gpt-4o-mini`) when `OPENAI_API_KEY` is set, otherwise undefined, and
 * answers are extractive.
 */
export function createChatModel(cfg: EmbeddingConfig): ChatModel | undefined {
  const apiKey = apiKeyOf(cfg);
  if (apiKey === undefined) return undefined;
  return new OpenAIChatModel({
    apiKey,
    model: cfg.KBFLOW_CHAT_MODEL ?? DEFAULT_CHAT_MODEL,
    ...(cfg.OPENAI_BASE_URL !== undefined ? { baseURL: cfg.OPENAI_BASE_URL } : {}),
  });
}
