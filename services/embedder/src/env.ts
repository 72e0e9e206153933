import {
  breakerEnvShape,
  breakerOptions,
  commonEnvShape,
  parseEnv,
  providerEnvShape,
  providerOptions,
  vectorStoreEnvShape,
  vectorStoreOptions,
  workerEnvShape,
  workerRuntimeOptions,
} from '@kbflow/config';
import { z } from 'zod';

export const SERVICE = 'embedder';

export const embedderEnvSchema = z.object({
  ...commonEnvShape,
  // 16 jobs at once: `embed-chunks` jobs spend most of their time waiting for
  // the batch they share (ChunkBatcher), so more of them make larger batches.
  ...workerEnvShape(9102, 16),
  ...vectorStoreEnvShape,
  ...providerEnvShape,
  ...breakerEnvShape,
  /** Texts per embedding request to the provider. */
  KBFLOW_EMBED_REQUEST_SIZE: z.coerce.number().int().min(1).max(2048).default(128),
  /** Chunks embedded and written to the vector store together at most (ChunkBatcher). */
  KBFLOW_EMBED_BATCH_MAX_CHUNKS: z.coerce.number().int().min(1).max(100_000).default(1024),
});

export type EmbedderEnv = z.infer<typeof embedderEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): EmbedderEnv {
  return parseEnv(embedderEnvSchema, source, { service: SERVICE });
}

/** The embedder's options, from its environment: the only place besides the schema that names its variables. */
function embedderConfig(env: EmbedderEnv) {
  return {
    runtime: { service: SERVICE, ...workerRuntimeOptions(env), dbPoolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 2, 20) },
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    vectorStore: vectorStoreOptions(env),
    provider: providerOptions(env),
    breakers: breakerOptions(env),
    requestSize: env.KBFLOW_EMBED_REQUEST_SIZE,
    batchMaxChunks: env.KBFLOW_EMBED_BATCH_MAX_CHUNKS,
  };
}

export type EmbedderConfig = ReturnType<typeof embedderConfig>;

/** Parses the environment once (see loadEnv) and maps it to the embedder's options. */
export function loadConfig(source: Record<string, string | undefined> = process.env): EmbedderConfig {
  return embedderConfig(loadEnv(source));
}
