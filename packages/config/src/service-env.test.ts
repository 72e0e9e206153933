import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { commonEnvShape } from './common-env.ts';
import { EnvError, parseEnv } from './parse-env.ts';
import {
  breakerEnvShape,
  breakerOptions,
  providerEnvShape,
  providerOptions,
  vectorStoreEnvShape,
  vectorStoreOptions,
  workerEnvShape,
  workerRuntimeOptions,
} from './service-env.ts';

const schema = z.object({ ...commonEnvShape, ...workerEnvShape(9101, 8), ...vectorStoreEnvShape, ...providerEnvShape, ...breakerEnvShape });
const load = (source: Record<string, string> = {}) => parseEnv(schema, source);

describe('the options the services build from their environment', () => {
  it('with an API key and nothing else, the provider is text-embedding-3-small at its native size and gpt-4o-mini', () => {
    expect(providerOptions(load({ OPENAI_API_KEY: 'sk-test' })).models).toEqual({
      apiKey: 'sk-test',
      baseUrl: undefined,
      embeddingModel: 'text-embedding-3-small',
      embeddingDimensions: undefined,
      chatModel: 'gpt-4o-mini',
    });
  });

  it('the provider limits are per window and unset by default; the cache bound is in bytes', () => {
    const provider = providerOptions(load({ OPENAI_API_KEY: 'sk-test', KBFLOW_EMBEDDING_RPM: '600', KBFLOW_CHAT_TPM: '9000' }));
    expect(provider.limits).toEqual({
      apiKey: 'sk-test',
      embedding: { requestsPerWindow: 600, tokensPerWindow: undefined },
      chat: { requestsPerWindow: undefined, tokensPerWindow: 9000 },
      windowMs: 60_000,
    });
    expect(provider.embeddingCacheBytes).toBe(64 * 1024 * 1024);
  });

  it('the vector store defaults to LanceDB with the schema defaults', () => {
    expect(vectorStoreOptions(load())).toEqual({
      kind: 'lancedb',
      lancedbDir: '.data/lancedb',
      qdrantUrl: undefined,
      qdrantApiKey: undefined,
      collection: 'kbflow_chunks',
      indexMinRows: 50_000,
      indexCacheMb: 64,
      metadataCacheMb: 32,
    });
  });

  it('Qdrant without QDRANT_URL stops start-up naming the variable', () => {
    expect(() => vectorStoreOptions(load({ KBFLOW_VECTOR_STORE: 'qdrant' }))).toThrow(EnvError);
    expect(() => vectorStoreOptions(load({ KBFLOW_VECTOR_STORE: 'qdrant' }))).toThrow(/QDRANT_URL: is required when KBFLOW_VECTOR_STORE=qdrant/);
  });

  it('each breaker has its own thresholds', () => {
    expect(breakerOptions(load({ KBFLOW_BREAKER_VECTOR_FAILURES: '7' }))).toEqual({
      provider: { failureThreshold: 5, resetTimeoutMs: 60_000 },
      vector: { failureThreshold: 7, resetTimeoutMs: 30_000 },
      browser: { failureThreshold: 5, resetTimeoutMs: 45_000 },
    });
  });

  it('the worker runtime gets the common clients, its metrics listener and lock settings', () => {
    expect(workerRuntimeOptions(load({ KBFLOW_JOB_ATTEMPTS: 'embed=5', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }))).toEqual({
      logLevel: 'info',
      tracing: { endpoint: 'http://127.0.0.1:4318', serviceName: undefined, sampler: 'parentbased_always_on', samplerRatio: 1 },
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgresql://postgres@127.0.0.1:5432/kbflow',
      queuePrefix: '{kbflow}',
      jobAttempts: { embed: 5 },
      shutdownTimeoutMs: 25_000,
      metricsPort: 9101,
      metricsHost: '127.0.0.1',
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    });
  });
});
