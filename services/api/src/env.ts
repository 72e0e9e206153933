import type { BootstrapKeys } from './bootstrap-keys.ts';
import { booleanFromString, commonEnvShape, commonOptions, parseEnv, vectorStoreEnvShape, vectorStoreOptions, weakSecretReason } from '@kbflow/config';
import { z } from 'zod';
import { DEFAULT_SOURCE_MIN_INTERVAL_MS } from '@kbflow/queues';

export const SERVICE = 'api';

export const apiEnvSchema = z
  .object({
    ...commonEnvShape,
    ...vectorStoreEnvShape,
    KBFLOW_API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Loopback by default, so a local run is not reachable from the network; the image, compose and Kubernetes set 0.0.0.0. */
    KBFLOW_API_HOST: z.string().default('127.0.0.1'),
    /**
     * Prometheus /metrics (and /healthz, /readyz) on a listener of its own, never
     * on the public port: metrics name routes, queues and tenants' volumes.
     * Loopback by default; the image sets 0.0.0.0 (compose and Kubernetes
     * publish only the API port, so Prometheus reaches it inside the network).
     */
    KBFLOW_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9105),
    KBFLOW_METRICS_HOST: z.string().default('127.0.0.1'),
    /**
     * The dev tenant's key; defaults to `dev-key` outside production. Refused
     * in production: there the dev tenant never exists, and tenants and keys
     * are made with the admin key (`./kbflow tenants add`, docs/tenancy.md).
     */
    KBFLOW_DEV_API_KEY: z.string().min(6).optional(),
    /**
     * The admin key (Bull Board, admin endpoints); defaults to `dev-admin-key`
     * outside production. Required in production, and refused there when it
     * is a default, a placeholder or short (see weakSecretReason).
     */
    KBFLOW_ADMIN_API_KEY: z.string().min(6).optional(),
    KBFLOW_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
    KBFLOW_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(1024 * 1024),
    /** Cap on one `POST /v1/records` body (decoded), separate from KBFLOW_MAX_BODY_BYTES: bulk uploads are large by nature. */
    KBFLOW_RECORDS_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(64 * 1024 * 1024),
    KBFLOW_BULL_BOARD_READ_ONLY: booleanFromString.default(false),
    /** Pages read of one uploaded PDF at most (POST /v1/documents); the scraper reads the same variable for crawled ones. */
    /** The shortest `every` a source schedule may have; lowered only by tests (a crawl every few seconds hammers a site). */
    KBFLOW_SOURCE_MIN_INTERVAL_MS: z.coerce.number().int().min(1000).default(DEFAULT_SOURCE_MIN_INTERVAL_MS),
    /** Lets a webhook URL be on a private, loopback or link-local address (tests; the scraper and maintenance read it too). */
    KBFLOW_ALLOW_PRIVATE_NETWORKS: booleanFromString.default(false),
    KBFLOW_MAX_DOCUMENT_PAGES: z.coerce.number().int().min(1).max(100_000).default(500),
    /** Admission control: refuse new crawls and scrapes while Redis used_memory / maxmemory is at or above this. */
    KBFLOW_ADMISSION_REDIS_MEMORY_RATIO: z.coerce.number().gt(0).max(1).default(0.9),
    /** Admission control: refuse new work for a queue whose waiting + prioritized + delayed jobs pass this. */
    KBFLOW_ADMISSION_MAX_BACKLOG: z.coerce.number().int().min(1).default(100_000),
  })
  .superRefine((env, ctx) => {
    // A production API protected by a well-known or template key is an open
    // API: refuse to start rather than serve it (kbflow issue 14, item 1).
    if (env.NODE_ENV !== 'production') return;
    if (!env.KBFLOW_ADMIN_API_KEY) {
      ctx.addIssue({ code: 'custom', path: ['KBFLOW_ADMIN_API_KEY'], message: 'is required in production (generate one: openssl rand -hex 32)' });
    }
    const reason = env.KBFLOW_ADMIN_API_KEY === undefined ? undefined : weakSecretReason(env.KBFLOW_ADMIN_API_KEY);
    if (reason)
      ctx.addIssue({ code: 'custom', path: ['KBFLOW_ADMIN_API_KEY'], message: `${reason}: not accepted in production (generate one: openssl rand -hex 32)` });
    if (env.KBFLOW_DEV_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['KBFLOW_DEV_API_KEY'],
        message: 'is not used in production: leave it empty and create tenants and keys with the admin key (./kbflow tenants add, ./kbflow keys add)',
      });
    }
  })
  .transform((env) => ({
    ...env,
    /** True when the dev key is the built-in `dev-key` (not chosen by the operator): the only case it is printed at start. */
    devKeyIsBuiltIn: env.KBFLOW_DEV_API_KEY === undefined && env.NODE_ENV !== 'production',
    KBFLOW_DEV_API_KEY: env.KBFLOW_DEV_API_KEY ?? (env.NODE_ENV === 'production' ? undefined : 'dev-key'),
    KBFLOW_ADMIN_API_KEY: env.KBFLOW_ADMIN_API_KEY ?? (env.NODE_ENV === 'production' ? undefined : 'dev-admin-key'),
  }));

export type ApiEnv = z.infer<typeof apiEnvSchema>;

export function loadEnv(source: Record<string, string | undefined> = process.env): ApiEnv {
  return parseEnv(apiEnvSchema, source, { service: SERVICE });
}

/** The api's options, from its environment: the only place besides the schema that names its variables. */
function apiConfig(env: ApiEnv) {
  return {
    clients: { service: SERVICE, ...commonOptions(env), dbPoolSize: 10 },
    vectorStore: vectorStoreOptions(env),
    port: env.KBFLOW_API_PORT,
    host: env.KBFLOW_API_HOST,
    metricsPort: env.KBFLOW_METRICS_PORT,
    metricsHost: env.KBFLOW_METRICS_HOST,
    shutdownTimeoutMs: env.KBFLOW_SHUTDOWN_TIMEOUT_MS,
    bootstrapKeys: bootstrapKeysOf(env),
    devKey: env.KBFLOW_DEV_API_KEY,
    devKeyIsBuiltIn: env.devKeyIsBuiltIn,
    sourceMinIntervalMs: env.KBFLOW_SOURCE_MIN_INTERVAL_MS,
    allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS,
    queryTimeoutMs: env.KBFLOW_QUERY_TIMEOUT_MS,
    maxBodyBytes: env.KBFLOW_MAX_BODY_BYTES,
    recordsMaxBytes: env.KBFLOW_RECORDS_MAX_BYTES,
    bullBoardReadOnly: env.KBFLOW_BULL_BOARD_READ_ONLY,
    maxDocumentPages: env.KBFLOW_MAX_DOCUMENT_PAGES,
    admission: { redisMemoryRatio: env.KBFLOW_ADMISSION_REDIS_MEMORY_RATIO, maxBacklog: env.KBFLOW_ADMISSION_MAX_BACKLOG },
  };
}

/** The keys bootstrapEnvKeys writes, each named by its variable. */
export function bootstrapKeysOf(env: Pick<ApiEnv, 'NODE_ENV' | 'KBFLOW_DEV_API_KEY' | 'KBFLOW_ADMIN_API_KEY'>): BootstrapKeys {
  return {
    production: env.NODE_ENV === 'production',
    dev: env.KBFLOW_DEV_API_KEY ? { key: env.KBFLOW_DEV_API_KEY, variable: 'KBFLOW_DEV_API_KEY' } : undefined,
    admin: env.KBFLOW_ADMIN_API_KEY ? { key: env.KBFLOW_ADMIN_API_KEY, variable: 'KBFLOW_ADMIN_API_KEY' } : undefined,
  };
}

export type ApiConfig = ReturnType<typeof apiConfig>;

/** Parses the environment once (see loadEnv) and maps it to the api's options. */
export function loadConfig(source: Record<string, string | undefined> = process.env): ApiConfig {
  return apiConfig(loadEnv(source));
}
