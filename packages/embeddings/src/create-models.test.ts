import { describe, expect, it } from '@jest/globals';
import { createChatModel, createEmbedder } from './create-models.ts';
import { HashingEmbedder } from './hashing-embedder.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';

// The schema's defaults (packages/config: providerOptions) fill these in a service.
const MODELS = { embeddingModel: 'text-embedding-3-small', chatModel: 'gpt-4o-mini' };

describe('createEmbedder', () => {
  it('without an API key, uses the local hashing embedder at the configured size', () => {
    const embedder = createEmbedder({ ...MODELS, embeddingDimensions: 512 });
    expect(embedder).toBeInstanceOf(HashingEmbedder);
    expect(embedder).toMatchObject({ model: 'local-hashing-ngram-v1', dimensions: 512 });
    expect(createEmbedder({ ...MODELS, apiKey: '  ' })).toBeInstanceOf(HashingEmbedder);
  });

  it('with an API key, uses OpenAI with text-embedding-3-small at its native size by default', () => {
    const embedder = createEmbedder({ ...MODELS, apiKey: 'sk-test' });
    expect(embedder).toBeInstanceOf(OpenAIEmbedder);
    expect(embedder).toMatchObject({ model: 'text-embedding-3-small', dimensions: 1536 });
  });

  it('with an API key, honours the configured model and size', () => {
    const embedder = createEmbedder({
      apiKey: 'sk-test',
      baseUrl: 'http://127.0.0.1:11434/v1',
      embeddingModel: 'nomic-embed-text',
      embeddingDimensions: 768,
    });
    expect(embedder).toMatchObject({ model: 'nomic-embed-text', dimensions: 768 });
  });

  it('refuses a model of unknown size rather than guessing', () => {
    expect(() => createEmbedder({ apiKey: 'sk-test', embeddingModel: 'nomic-embed-text' })).toThrow(/KBFLOW_EMBEDDING_DIMENSIONS/);
  });
});

describe('createChatModel', () => {
  it('is undefined without an API key, so answers are extractive', () => {
    expect(createChatModel(MODELS)).toBeUndefined();
  });

  it('with an API key, defaults to gpt-4o-mini and honours KBFLOW_CHAT_MODEL', () => {
    const chat = createChatModel({ ...MODELS, apiKey: 'sk-test' });
    expect(chat).toBeInstanceOf(OpenAIChatModel);
    expect(chat?.model).toBe('gpt-4o-mini');
    expect(createChatModel({ ...MODELS, apiKey: 'sk-test', chatModel: 'llama3.1' })?.model).toBe('llama3.1');
  });
});
