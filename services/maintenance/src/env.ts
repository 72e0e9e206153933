import {
  booleanFromString,
  commonEnvShape,
  EnvError,
  parseEnv,
  vectorStoreEnvShape,
  vectorStoreOptions,
  workerEnvShape,
  workerRuntimeOptions,
} from '@kbflow/config';
import { z } from 'zod';
import { readCaseCategoryRules } from './case-category-config.ts';
import { parseScheduleSpec } from './domain/schedule-spec.ts';
import type { ScheduleConfig } from './schedules.ts';

export const SERVICE = 'maintenance';

/**
 * A schedule variable: an interval (`1800000`, `30m`, `2h`) or a 5/6-field
 * cron pattern. Kept as the operator's text (so the documented default is
 * the same string everywhere); schedules.ts turns it into BullMQ's options.
 */
function schedule(defaultValue: string) {
  return z
    .string()
    .superRefine((value, ctx) => {
      const parsed = parseScheduleSpec(value);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
    })
    .default(defaultValue);
}

export const maintenanceEnvSchema = z.object({
  ...commonEnvShape,
  ...workerEnvShape(9104, 2),
  ...vectorStoreEnvShape,
  KBFLOW_HEALTH_CHECK_SCHEDULE: schedule('15m'),
  KBFLOW_COMPACT_SCHEDULE: schedule('10m'),
  KBFLOW_CASE_SYNC_SCHEDULE: schedule('30m'),
  KBFLOW_KNOWLEDGE_SCHEDULE: schedule('2h'),
  KBFLOW_SWEEP_SCHEDULE: schedule('1h'),
  /**
   * The sweep leaves alone what changed more recently than this: chunks
   * still on their way through the embed queue, vectors written a moment
   * before their row is marked indexed.
   */
  KBFLOW_SWEEP_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600 * 1000)
    .default(10 * 60 * 1000),
  /** JSON file of case categorization rules (see case-categories.ts); unset: the built-in rules. */
  KBFLOW_CASE_CATEGORIES_FILE: z
    .string()
    .superRefine((path, ctx) => {
      const read = readCaseCategoryRules(path);
      if (!read.ok) for (const message of read.problems) ctx.addIssue({ code: 'custom', message });
    })
    .optional(),
  /** Cases claimed, written and committed per transaction by case sync (row locks are held that long). */
  KBFLOW_CASE_SYNC_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(250),
  /** Search-log rows (`/v1/search/analytics`) older than this many days are deleted by the health-check schedule. */
  KBFLOW_SEARCH_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Schedule-run rows (`GET /v1/schedules/:name/runs`) started more than this many days ago are deleted by the health-check schedule. */
  KBFLOW_SCHEDULE_RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Dead letters older than this are deleted by the health-check schedule's dead-letter sweep. */
  KBFLOW_DEAD_LETTER_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** At most this many dead letters are kept; the sweep deletes the oldest beyond it. */
  KBFLOW_DEAD_LETTER_MAX_COUNT: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  /**
   * The task reaper (health-check schedule) looks at a queued or running
   * crawl only once nothing of it changed for this long: re-drives its
   * completion, then fails it with the reason (docs/failures.md).
   */
  KBFLOW_TASK_REAPER_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600 * 1000)
    .default(15 * 60 * 1000),
  /** How long the knowledge schedule waits for the aggregator's generation before recording a timeout. */
  KBFLOW_KNOWLEDGE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3600 * 1000)
    .default(600_000),
  /** Webhook receivers on private, loopback or link-local addresses (tests only; the same variable as the scraper's and the api's). */
  KBFLOW_ALLOW_PRIVATE_NETWORKS: booleanFromString.default(false),
  /** One webhook delivery attempt, connect to last byte; past it the attempt fails and is retried. */
  KBFLOW_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1000).max(60_000).default(10_000),
  /** Webhook deliveries in flight at once per maintenance replica (they mostly wait on receivers). */
  KBFLOW_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(10),
});

export type MaintenanceEnv = z.infer<typeof maintenanceEnvSchema>;

/**
 * Variables of earlier versions. Ignoring one would silently fall back to a
 * default, so start-up stops and names the replacement instead.
 */
const RENAMED: Record<string, keyof MaintenanceEnv> = {
  KBFLOW_HEALTH_CHECK_EVERY_MS: 'KBFLOW_HEALTH_CHECK_SCHEDULE',
  KBFLOW_COMPACT_EVERY_MS: 'KBFLOW_COMPACT_SCHEDULE',
};

export function loadEnv(source: Record<string, string | undefined> = process.env): MaintenanceEnv {
  const renamed = Object.entries(RENAMED)
    .filter(([old]) => source[old] !== undefined && source[old] !== '')
    .map(([old, current]) => `${old}: renamed to ${current} (same value, or a duration like 15m, or a cron pattern)`);
  if (renamed.length > 0) throw new EnvError(renamed);
  return parseEnv(maintenanceEnvSchema, source, { service: SERVICE });
}

/** The schedule variables of the environment, by schedule name. */
export function scheduleConfig(env: MaintenanceEnv): ScheduleConfig {
  return {
    'health-check': env.KBFLOW_HEALTH_CHECK_SCHEDULE,
    'compact-vector-store': env.KBFLOW_COMPACT_SCHEDULE,
    'case-sync': env.KBFLOW_CASE_SYNC_SCHEDULE,
    'generate-knowledge': env.KBFLOW_KNOWLEDGE_SCHEDULE,
    'vectorization-sweep': env.KBFLOW_SWEEP_SCHEDULE,
  };
}

const DAY_MS = 24 * 3600 * 1000;

/** The maintenance service's options, from its environment: the only place besides the schema that names its variables. */
function maintenanceConfig(env: MaintenanceEnv) {
  return {
    runtime: { service: SERVICE, ...workerRuntimeOptions(env), dbPoolSize: 3 },
    concurrency: env.KBFLOW_WORKER_CONCURRENCY,
    vectorStore: vectorStoreOptions(env),
    schedules: scheduleConfig(env),
    caseCategoriesFile: env.KBFLOW_CASE_CATEGORIES_FILE,
    caseSyncBatchSize: env.KBFLOW_CASE_SYNC_BATCH_SIZE,
    sweepGraceMs: env.KBFLOW_SWEEP_GRACE_MS,
    knowledgeTimeoutMs: env.KBFLOW_KNOWLEDGE_TIMEOUT_MS,
    retentionDays: { searchLogs: env.KBFLOW_SEARCH_LOG_RETENTION_DAYS, scheduleRuns: env.KBFLOW_SCHEDULE_RUN_RETENTION_DAYS },
    deadLetterRetention: { maxAgeMs: env.KBFLOW_DEAD_LETTER_RETENTION_DAYS * DAY_MS, maxCount: env.KBFLOW_DEAD_LETTER_MAX_COUNT },
    taskReaperGraceMs: env.KBFLOW_TASK_REAPER_GRACE_MS,
    webhooks: {
      allowPrivateNetworks: env.KBFLOW_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: env.KBFLOW_WEBHOOK_TIMEOUT_MS,
      concurrency: env.KBFLOW_WEBHOOK_CONCURRENCY,
    },
  };
}

export type MaintenanceConfig = ReturnType<typeof maintenanceConfig>;

/** Parses the environment once (see loadEnv) and maps it to the maintenance service's options. */
export function loadConfig(source: Record<string, string | undefined> = process.env): MaintenanceConfig {
  return maintenanceConfig(loadEnv(source));
}
