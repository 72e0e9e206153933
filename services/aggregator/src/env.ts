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

export const SERVICE = 'aggregator';

export const aggregatorEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9103, 16),
  ...vectorStoreEnvShape,
  ...providerEnvShape,
  ...breakerEnvShape,
  /** Query embeddings kept in this process's LRU (entries); 0 disables it. */
  KBFLOW_QUERY_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  /**
   * Hybrid retrieval's time budget for the full-text half, ms; 0: none.
   * Past it, the passages found so far are fused with the vector list and
   * the result says `degraded: "keyword-partial"`. The default only cuts
   * pathological questions: on the benchmark's 100,000 chunks the slowest
   * took 270 ms idle. 40 ms (4x the median) bounded the slow tail there,
   * but it also cut a quarter of the answers under the backlog's load, and
   * the first, cold question of a fresh aggregator in the crawl test, which
   * then missed its page: a quality loss users see, so a tight budget is an
   * operator's choice, not the default.
   */
  KBFLOW_KEYWORD_BUDGET_MS: z.coerce.number().int().min(0).max(60_000).default(200),
  /** Knowledge generation: cases a pattern needs at least. */
  KBFLOW_KNOWLEDGE_MIN_CASES: z.coerce.number().int().min(2).max(10_000).default(5),
  /**
   * A pattern member's mean cosine similarity to the other members. 0.6 fits
   * the offline embedder (chosen on the 3,000 GitHub issues: 0.55 let in
   * loosely related issues, 0.65 split real patterns); a neural embedder
   * needs its own value.
   */
  KBFLOW_KNOWLEDGE_SIMILARITY: z.coerce.number().gt(0).lt(1).default(0.6),
  /** How long a generation waits for a knowledge base's lock, and then may hold it. */
  KBFLOW_KNOWLEDGE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .default(600_000),
});

export type AggregatorEnv = z.infer<typeof aggregatorEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): AggregatorEnv {
  return parseEnv(aggregatorEnvSchema, source, { service: SERVICE });
}

/** The aggregator's options, from its environment: the only place besides the schema that names its variables. */
function aggregatorConfig(env: AggregatorEnv) {
  return {
    runtime: { service: SERVICE, ...workerRuntimeOptions(env), dbPoolSize: Math.min(env.KBFLOW_WORKER_CONCURRENCY + 4, 30) },
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    vectorStore: vectorStoreOptions(env),
    provider: providerOptions(env),
    breakers: breakerOptions(env),
    queryCacheSize: env.KBFLOW_QUERY_CACHE_SIZE,
    /** Absent: no budget. */
    keywordBudgetMs: env.KBFLOW_KEYWORD_BUDGET_MS > 0 ? env.KBFLOW_KEYWORD_BUDGET_MS : undefined,
    knowledge: { minCases: env.KBFLOW_KNOWLEDGE_MIN_CASES, similarity: env.KBFLOW_KNOWLEDGE_SIMILARITY, lockTimeoutMs: env.KBFLOW_KNOWLEDGE_TIMEOUT_MS },
  };
}

export type AggregatorConfig = ReturnType<typeof aggregatorConfig>;

/** Parses the environment once (see loadEnv) and maps it to the aggregator's options. */
export function loadConfig(source: Record<string, string | undefined> = process.env): AggregatorConfig {
  return aggregatorConfig(loadEnv(source));
}
