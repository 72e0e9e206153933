import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from './databases.ts';
import { artifactDir, startStack, type ServiceName, type Stack } from './service-processes.ts';

/** Service processes on resources of their own: a database, a LanceDB folder and a queue prefix. */
export interface E2eStack {
  stack: Stack;
  database: TestDatabase;
  lanceDir: string;
  prefix: string;
  /** The environment every service got (to start more instances with). */
  env: Record<string, string>;
  logDir: string;
  /** Stops the services, drops the database, deletes the folder and every Redis key of the prefix. */
  teardown: () => Promise<void>;
}

/** Deletes every key under `prefix` (SCAN, not KEYS: the test Redis is shared by parallel test files). */
export async function deletePrefixKeys(redis: Redis, prefix: string): Promise<void> {
  const escaped = prefix.replace(/[*?[\]\\]/g, '\\$&');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escaped}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * What the end-to-end, fault and operations tests start with: a fresh
 * migrated database, an empty LanceDB folder and a unique queue prefix,
 * and the given services (all five by default) as processes on them, with
 * `env` on top (keys, concurrency, timeouts). When a service fails to
 * start, whatever was created is removed before the error is rethrown.
 */
export async function startE2eStack(label: string, opts: { services?: ServiceName[]; env?: Record<string, string>; logDir?: string } = {}): Promise<E2eStack> {
  const database = await createTestDatabase();
  const lanceDir = await mkdtemp(path.join(tmpdir(), `kbflow-${label}-lance-`));
  const prefix = uniquePrefix(label);
  const logDir = opts.logDir ?? artifactDir(label);
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    KBFLOW_QUEUE_PREFIX: prefix,
    KBFLOW_LANCEDB_DIR: lanceDir,
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  let stack: Stack | undefined;
  const teardown = async () => {
    await stack?.stop();
    await database.drop();
    await rm(lanceDir, { recursive: true, force: true });
    const redis = new Redis(testRedisUrl());
    try {
      await deletePrefixKeys(redis, prefix);
    } finally {
      await redis.quit();
    }
  };
  try {
    stack = await startStack(env, { logDir, ...(opts.services ? { services: opts.services } : {}) });
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  return { stack, database, lanceDir, prefix, env, logDir, teardown };
}
