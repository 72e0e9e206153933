// The API in-process (createApp, as main.ts wires it) over a real Redis and a
// fresh PostgreSQL database: every api integration test file starts its own.
import {
  CaseRepository,
  createDb,
  DocumentRepository,
  IdempotencyRepository,
  KnowledgeRepository,
  RecordRepository,
  ScheduleRunRepository,
  SearchLogRepository,
  SourceRepository,
  TaskRepository,
  TenantRepository,
  TenantWorkRepository,
  WebhookRepository,
  type Db,
} from '@kbflow/db';
import { createLogger, createMetrics } from '@kbflow/observability';
import { ALL_QUEUES, createRedis, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import { createTestDatabase, testRedisUrl, uniquePrefix, type TestDatabase } from '@kbflow/testing';
import { QueueEvents } from 'bullmq';
import type { Server } from 'node:http';
import { createApp, type KbflowApp } from '../../src/app.ts';
import type { AdmissionOptions } from '../../src/http/admission.ts';
import { answerClientErrorsAsJson } from '../../src/http/client-errors.ts';
import { SearchLogWriter } from '../../src/search-log-writer.ts';
import { TenantPurger } from '../../src/tenant-purger.ts';
import type { VectorStore } from '@kbflow/vector-store';

export const DEV_KEY = 'test-dev-key';
export const OTHER_KEY = 'test-other-key';
export const ADMIN_KEY = 'test-admin-key';

export interface SendOptions {
  /** The API key; null sends none. Defaults to the dev tenant's. */
  key?: string | null;
  body?: string | object;
  headers?: Record<string, string>;
}

export interface SendResult {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

export interface TestApi {
  base: string;
  /** The database and queue prefix, for a second API process over the same ones. */
  database: TestDatabase;
  prefix: string;
  /** The Express app (its router and its route registry). */
  app: KbflowApp;
  db: Db;
  redis: Redis;
  producer: JobProducer;
  tenants: TenantRepository;
  /** The search log as the API writes it; `writer.flush()` writes what is buffered. */
  searchLogs: { writer: SearchLogWriter; repository: SearchLogRepository };
  send: (method: string, path: string, opts?: SendOptions) => Promise<SendResult>;
  /** Jobs of this API's prefix across every queue and state. */
  jobTotal: () => Promise<number>;
  /** What the API's metrics listener serves (main.ts serves this registry on KBFLOW_METRICS_PORT, never on the API port). */
  metrics: () => Promise<string>;
  close: () => Promise<void>;
}

export async function startTestApi(
  opts: {
    redisUrl?: string;
    admission?: AdmissionOptions;
    maxBodyBytes?: number;
    recordsMaxBytes?: number;
    queryTimeoutMs?: number;
    label?: string;
    sourceMinIntervalMs?: number;
    vectors?: VectorStore;
    database?: TestDatabase;
    prefix?: string;
    allowPrivateNetworks?: boolean;
  } = {},
): Promise<TestApi> {
  // A second API process over the same database and prefix passes both (replica tests); it leaves them to the first to drop.
  const ownsDatabase = !opts.database;
  const database: TestDatabase = opts.database ?? (await createTestDatabase());
  const db = createDb(database.url);
  const redis = createRedis(opts.redisUrl ?? testRedisUrl());
  const prefix = opts.prefix ?? uniquePrefix(opts.label ?? 'api');
  const producer = new JobProducer(redis, prefix);
  const eventConnections = [redis.duplicate()];
  const events = {
    query: new QueueEvents(QueueName.query, { connection: eventConnections[0]!, prefix }),
  };
  await events.query.waitUntilReady();
  const tenants = new TenantRepository(db);
  await tenants.ensureTenantWithKey('dev', DEV_KEY, { tier: 'enterprise' });
  await tenants.ensureTenantWithKey('other', OTHER_KEY);
  await tenants.ensureTenantWithKey('admin', ADMIN_KEY, { isAdmin: true, tier: 'enterprise' });
  const log = createLogger('api-test', 'silent');
  const registry = createMetrics('api-test').registry;
  const searchLogRepository = new SearchLogRepository(db);
  const searchLogs = { writer: new SearchLogWriter(searchLogRepository, { log, registry }), repository: searchLogRepository };
  const tasks = new TaskRepository(db);
  const app = createApp({
    log,
    registry,
    tenants,
    tasks,
    tenantWork: new TenantWorkRepository(db),
    sources: { repository: new SourceRepository(db, tasks), minIntervalMs: opts.sourceMinIntervalMs ?? 60_000 },
    webhooks: { repository: new WebhookRepository(db, tasks), allowPrivateNetworks: opts.allowPrivateNetworks ?? false },
    idempotency: new IdempotencyRepository(db),
    scheduleRuns: new ScheduleRunRepository(db),
    knowledge: new KnowledgeRepository(db),
    documents: { repository: new DocumentRepository(db), maxPages: 50 },
    producer,
    redis,
    events,
    checks: [
      { name: 'redis', check: () => redis.ping() },
      { name: 'postgres', check: () => db.$queryRaw`SELECT 1` },
    ],
    queryTimeoutMs: opts.queryTimeoutMs ?? 5000,
    maxBodyBytes: opts.maxBodyBytes ?? 16 * 1024,
    records: { repository: new RecordRepository(db), maxBytes: opts.recordsMaxBytes ?? 8 * 1024 * 1024 },
    cases: new CaseRepository(db),
    bullBoardReadOnly: false,
    ...(opts.admission ? { admission: opts.admission } : {}),
    searchLogs,
    ...(opts.vectors ? { tenantAdmin: { purger: new TenantPurger({ tenants, producer, vectors: opts.vectors, redis, log }) } } : {}),
  });
  const server: Server = app.listen(0, '127.0.0.1');
  answerClientErrorsAsJson(server);
  await new Promise((r) => server.once('listening', r));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const send = async (method: string, path: string, o: SendOptions = {}): Promise<SendResult> => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key !== null) headers.authorization = `Bearer ${o.key ?? DEV_KEY}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };

  const jobTotal = async () => {
    let total = 0;
    for (const name of ALL_QUEUES) {
      const counts = await producer.queue(name).getJobCounts();
      total += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return total;
  };

  return {
    base,
    database,
    prefix,
    app,
    db,
    redis,
    producer,
    tenants,
    searchLogs,
    send,
    jobTotal,
    metrics: () => registry.metrics(),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
      await redis.del(...(await redis.keys(`${prefix}:*`)), `${prefix}:__none__`);
      await events.query.close();
      await Promise.all(eventConnections.map((c) => c.quit()));
      await producer.close();
      await redis.quit();
      await searchLogs.writer.close();
      await db.$disconnect();
      if (ownsDatabase) await database.drop();
    },
  };
}

/** Sleeps; for waits on a cache's age, never as a stand-in for an event. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
