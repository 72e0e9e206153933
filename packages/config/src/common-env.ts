import { z } from 'zod';
import { profileEnvShape } from './profiles.ts';
import { tracingEnvShape, tracingOptions } from './tracing-env.ts';

/** The Redis key prefix of every queue; the braces are a Redis Cluster hash tag. */
export const DEFAULT_QUEUE_PREFIX = '{kbflow}';

/** `"true"`/`"false"` (and 1/0, yes/no) as a boolean; anything else is an error. */
export const booleanFromString = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Variables every service reads. Each service extends this shape in its own
 * `env.ts`, so one parse lists every bad key at once.
 */
export const commonEnvShape = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/kbflow'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  KBFLOW_QUEUE_PREFIX: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
  /**
   * Attempts per queue where the default of 3 does not fit, as
   * `queue=n,queue=n` (e.g. `embed=5,scrape=2`). Applied by every producer.
   */
  KBFLOW_JOB_ATTEMPTS: z
    .string()
    .regex(/^([a-z-]+=\d{1,2})(,[a-z-]+=\d{1,2})*$/, 'must look like embed=5,scrape=2')
    .transform(
      (v) =>
        Object.fromEntries(
          v
            .split(',')
            .map((pair) => pair.split('=') as [string, string])
            .map(([q, n]) => [q, Number(n)]),
        ) as Record<string, number>,
    )
    .optional(),
  /** Must stay below the Kubernetes termination grace period (see k8s/). */
  KBFLOW_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(25_000),
  ...tracingEnvShape,
  ...profileEnvShape,
};

export type CommonEnv = z.infer<z.ZodObject<typeof commonEnvShape>>;

/** The options of the clients every service builds (packages/queues: ServiceClientOptions, without the service's own sizing). */
export function commonOptions(env: CommonEnv) {
  return {
    logLevel: env.LOG_LEVEL,
    tracing: tracingOptions(env),
    redisUrl: env.REDIS_URL,
    databaseUrl: env.DATABASE_URL,
    queuePrefix: env.KBFLOW_QUEUE_PREFIX,
    jobAttempts: env.KBFLOW_JOB_ATTEMPTS,
    shutdownTimeoutMs: env.KBFLOW_SHUTDOWN_TIMEOUT_MS,
  };
}
