import { describe, expect, it } from '@jest/globals';
import { createChatModel, createEmbedder } from './create-models.ts';
import { HashingEmbedder } from './hashing-embedder.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';

describe('createEmbedder', () => {
  it('without an API key, uses the local hashing embedder at the configured size', () => {
    const embedder = createEmbedder({ KBFLOW_EMBEDDING_DIMENSIONS: 512 });
    expect(embedder).toBeInstanceOf(HashingEmbedder);
    expect(embedder).toMatchObject({ model: 'local-hashing-ngram-v1', dimensions: 512 });
    expect(createEmbedder({ OPENAI_API_KEY: '  ' })).toBeInstanceOf(HashingEmbedder);
  });

  it('with an API key, uses OpenAI with text-embedding-3-small at its native size by default', () => {
    const embedder = createEmbedder({ OPENAI_API_KEY: 'sk-test' });
    expect(embedder).toBeInstanceOf(OpenAIEmbedder);
    expect(embedder).toMatchObject({ model: 'text-embedding-3-small', dimensions: 1536 });
  });

  it('with an API key, honours the configured model and size', () => {
    const embedder = createEmbedder({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      KBFLOW_EMBEDDING_MODEL: 'nomic-embed-text',
      KBFLOW_EMBEDDING_DIMENSIONS: 768,
    });
    expect(embedder).toMatchObject({ model: 'nomic-embed-text', dimensions: 768 });
  });

  it('refuses a model of unknown size rather than guessing', () => {
    expect(() => createEmbedder({ OPENAI_API_KEY: 'sk-test', KBFLOW_EMBEDDING_MODEL: 'nomic-embed-text' })).toThrow(/KBFLOW_EMBEDDING_DIMENSIONS/);
  });
});

describe('createChatModel', () => {
  it('is undefined without an API key, so answers are extractive', () => {
    expect(createChatModel({})).toBeUndefined();
  });

  it('with an API key, defaults to gpt-4o-mini and honours KBFLOW_CHAT_MODEL', () => {
    const chat = createChatModel({ OPENAI_API_KEY: 'sk-test' });
    expect(chat).toBeInstanceOf(OpenAIChatModel);
    expect(chat?.model).toBe('gpt-4o-mini');
    expect(createChatModel({ OPENAI_API_KEY: 'sk-test', KBFLOW_CHAT_MODEL: 'llama3.1' })?.model).toBe('llama3.1');
  });
});
