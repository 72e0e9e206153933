import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyMigrations } from '@kbflow/db';
import { adminUrl, startStack, testRedisUrl, type ServiceName, type Stack } from '@kbflow/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { MemorySampler } from './memory-sampler.ts';

/** The dev API key the benchmark stacks create their tenant with. */
export const BENCH_API_KEY = 'bench-key';

/** A running stack of service processes with its memory sampler. */
export interface SampledStack {
  stack: Stack;
  memory: MemorySampler;
  /** The environment the services were started with (for in-process clients). */
  env: Record<string, string>;
  stop: () => Promise<void>;
}

/**
 * What every benchmark shares: sizes (quick or full), where logs go, and the
 * resources it creates (databases copied from a template migrated once per
 * run, queue prefixes, LanceDB folders, service processes), all removed by
 * {@link BenchContext.cleanup}. Uses the same PostgreSQL and Redis as the
 * integration tests (KBFLOW_TEST_DATABASE_URL, KBFLOW_TEST_REDIS_URL).
 */
export class BenchContext {
  readonly quick: boolean;
  /** NODE_OPTIONS for every service process (profiling: `--cpu-prof --cpu-prof-dir=...`). */
  readonly serviceNodeOptions: string | undefined;
  readonly redisUrl = testRedisUrl();
  /** bench-results/<timestamp>/: service logs of this run. */
  readonly logDir: string;
  readonly #started = Date.now();
  #template: string | undefined;
  readonly #databases: string[] = [];
  readonly #prefixes: string[] = [];
  readonly #dirs: string[] = [];
  readonly #stacks = new Set<SampledStack>();

  constructor(opts: { quick: boolean; logDir: string; serviceNodeOptions?: string }) {
    this.quick = opts.quick;
    this.serviceNodeOptions = opts.serviceNodeOptions;
    this.logDir = opts.logDir;
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Prints a progress line with the time since the run started. */
  say(line: string): void {
    const s = ((Date.now() - this.#started) / 1000).toFixed(0).padStart(4);
    process.stdout.write(`[bench ${s}s] ${line}\n`);
  }

  /** A fresh migrated database of its own (a copy of this run's template). */
  async database(label: string): Promise<string> {
    if (!this.#template) {
      const template = `kbflow_bench_tpl_${process.pid}_${randomBytes(3).toString('hex')}`;
      await this.#admin(`CREATE DATABASE "${template}"`);
      this.#databases.push(template);
      await applyMigrations(urlOf(template));
      this.#template = template;
    }
    const name = `kbflow_bench_${label}_${randomBytes(4).toString('hex')}`;
    await this.#admin(`CREATE DATABASE "${name}" TEMPLATE "${this.#template}"`);
    this.#databases.unshift(name);
    return urlOf(name);
  }

  /** A queue prefix no one else uses, hash-tagged like production's. */
  prefix(label: string): string {
    const prefix = `{kbflow-bench-${label}-${randomBytes(4).toString('hex')}}`;
    this.#prefixes.push(prefix);
    return prefix;
  }

  /** An empty temporary folder (LanceDB, Crawlee storage). */
  async tempDir(label: string): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), `kbflow-bench-${label}-`));
    this.#dirs.push(dir);
    return dir;
  }

  /**
   * Starts service processes (@kbflow/testing's startStack, as the
   * end-to-end tests do) and samples their resident memory every 500 ms.
   */
  async startStack(label: string, services: ServiceName[], env: Record<string, string>): Promise<SampledStack> {
    const fullEnv = {
      REDIS_URL: this.redisUrl,
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: BENCH_API_KEY,
      KBFLOW_ADMIN_API_KEY: 'bench-admin-key',
      LOG_LEVEL: 'info',
      // The baseline (Crawlee, concurrency 8) sends 8 requests at once to the one
      // corpus host; kbflow's per-host default is 4 (docs/crawling.md).
      KBFLOW_HOST_MAX_CONCURRENCY: '8',
      ...(this.serviceNodeOptions ? { NODE_OPTIONS: this.serviceNodeOptions } : {}),
      ...env,
    };
    const stack = await startStack(fullEnv, { logDir: path.join(this.logDir, label), services });
    const memory = new MemorySampler(new Map([...stack.services].map(([name, s]) => [name, s.process.pid!])));
    const sampled: SampledStack = {
      stack,
      memory,
      env: fullEnv,
      stop: async () => {
        this.#stacks.delete(sampled);
        memory.stop();
        await stack.stop();
      },
    };
    this.#stacks.add(sampled);
    return sampled;
  }

  /** Removes everything this run created: processes, keys, databases, folders. */
  async cleanup(): Promise<void> {
    for (const s of [...this.#stacks]) await s.stop().catch(() => undefined);
    const redis = new Redis(this.redisUrl);
    try {
      for (const prefix of this.#prefixes) await deleteKeys(redis, `${prefix}*`);
    } finally {
      redis.disconnect();
    }
    for (const name of this.#databases) await this.#admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    for (const dir of this.#dirs) await rm(dir, { recursive: true, force: true });
  }

  async #admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}

function urlOf(database: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/** Deletes keys by pattern with SCAN (never KEYS: other users share this Redis). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
