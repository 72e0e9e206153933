import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '@kbflow/db';
import { createRedis, JobProducer, type QueueName, type Redis } from '@kbflow/queues';
import {
  artifactDir,
  createTestDatabase,
  SHARED_DATA,
  startService,
  startStaticServer,
  uniquePrefix,
  type ServiceName,
  type ServiceProcess,
  type StaticServer,
  type TestDatabase,
} from '@kbflow/testing';

/** The Python 3.11 documentation: one connected site of 527 pages. */
export const CORPUS = path.join(SHARED_DATA, 'docs-corpus/python-3.11-html');
export const WORKERS: ServiceName[] = ['scraper', 'embedder', 'aggregator', 'maintenance'];
const SERVICES: ServiceName[] = ['api', ...WORKERS];
const KEY = 'faults-dev-key';
const ADMIN_KEY = 'faults-admin-key';
/** How long a stopped service may take to exit before it is killed and reported. */
const EXIT_DEADLINE_MS = 30_000;

export interface CrawlRequest {
  /** A path of the corpus, e.g. `library/index.html`. */
  seed: string;
  maxDepth: number;
  maxPages: number;
}

export interface TaskJson {
  id: string;
  state: string;
  progress: { discovered: number; scraped: number; skipped: number; embedded: number; failed: number; cancelled: number };
  error?: string;
}

export interface Tenant {
  id: string;
  name: string;
  /** Its API key, in plain text. */
  key: string;
}

export type PageCounts = Record<'discovered' | 'scraped' | 'skipped' | 'embedded' | 'failed' | 'total', number>;

/**
 * The five services as real processes around one test database, LanceDB
 * directory and queue prefix, serving the Python docs on 127.0.0.1, with the
 * means to kill, stop and replace single services during a crawl. Every event
 * the test causes is written to `timeline.log` beside the services' logs.
 */
export class FaultStack {
  readonly label: string;
  readonly logDir: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly env: Record<string, string>;
  readonly db: Db;
  readonly database: TestDatabase;
  readonly site: StaticServer;
  readonly lanceDir: string;
  readonly producer: JobProducer;
  private readonly redis: Redis;
  private readonly current = new Map<ServiceName, ServiceProcess>();
  private readonly started: ServiceProcess[] = [];
  private readonly instances = new Map<ServiceName, number>();
  private readonly startTimes = new Map<ServiceName, number>();
  private readonly t0 = Date.now();

  private constructor(fields: {
    label: string;
    redisUrl: string;
    prefix: string;
    env: Record<string, string>;
    database: TestDatabase;
    site: StaticServer;
    lanceDir: string;
  }) {
    this.label = fields.label;
    this.logDir = artifactDir(fields.label);
    this.redisUrl = fields.redisUrl;
    this.prefix = fields.prefix;
    this.env = fields.env;
    this.database = fields.database;
    this.db = createDb(fields.database.url);
    this.site = fields.site;
    this.lanceDir = fields.lanceDir;
    this.redis = createRedis(fields.redisUrl);
    this.producer = new JobProducer(this.redis, fields.prefix);
    // The test reads queues through a Redis that a test may restart: its
    // connection errors are expected and must not reach the console.
    for (const queue of this.producer.allQueues()) queue.on('error', () => undefined);
    mkdirSync(this.logDir, { recursive: true });
  }

  /** A fresh database, LanceDB directory, queue prefix and site; then the five services. */
  static async start(opts: {
    label: string;
    redisUrl: string;
    env?: Record<string, string>;
    /** The services' DATABASE_URL for the test database's (a proxy the test can take down); the test's own client connects directly. */
    servicesDatabaseUrl?: (url: string) => string;
  }): Promise<FaultStack> {
    const database = await createTestDatabase();
    const site = await startStaticServer(CORPUS);
    const lanceDir = await mkdtemp(path.join(tmpdir(), `kbflow-${opts.label}-lance-`));
    const prefix = uniquePrefix(opts.label);
    const env = {
      DATABASE_URL: opts.servicesDatabaseUrl ? opts.servicesDatabaseUrl(database.url) : database.url,
      REDIS_URL: opts.redisUrl,
      KBFLOW_QUEUE_PREFIX: prefix,
      KBFLOW_LANCEDB_DIR: lanceDir,
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      ...opts.env,
    };
    const stack = new FaultStack({ label: opts.label, redisUrl: opts.redisUrl, prefix, env, database, site, lanceDir });
    stack.note(`stack: prefix ${prefix}, database ${database.name}, lance ${lanceDir}, site ${site.url}`);
    try {
      await Promise.all(SERVICES.map((name) => stack.startFresh(name)));
    } catch (error) {
      await stack.close();
      throw error;
    }
    return stack;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.service('api').port}`;
  }

  /** The live process of a service. */
  service(name: ServiceName): ServiceProcess {
    const proc = this.current.get(name);
    if (!proc) throw new Error(`${name} is not running`);
    return proc;
  }

  /** Starts a new process of a service (instance numbers keep each one's log apart). */
  async startFresh(name: ServiceName): Promise<ServiceProcess> {
    const instance = (this.instances.get(name) ?? 0) + 1;
    this.instances.set(name, instance);
    // Taken before the spawn: a job this process runs started after it.
    const startedAt = Date.now();
    const proc = await startService(name, this.env, { logDir: this.logDir, instance, timeoutMs: 60_000 });
    this.current.set(name, proc);
    this.startTimes.set(name, startedAt);
    this.started.push(proc);
    this.note(`started ${name}-${instance} pid ${proc.process.pid} port ${proc.port}`);
    return proc;
  }

  /** When the live process of a service was spawned. */
  startedAt(name: ServiceName): number {
    const at = this.startTimes.get(name);
    if (at === undefined || !this.current.has(name)) throw new Error(`${name} is not running`);
    return at;
  }

  /**
   * Sends a signal to the live processes of these services at once and waits
   * for each to exit (killing it after `deadlineMs`). Reports each one's exit
   * code (or signal) and how long it took.
   */
  async signalAll(
    names: ServiceName[],
    signal: NodeJS.Signals,
    deadlineMs: number,
  ): Promise<{ name: ServiceName; exit: number | string | null; ms: number }[]> {
    const procs = names.map((name) => this.service(name));
    for (const name of names) this.current.delete(name);
    const results = await Promise.all(
      procs.map(async (proc) => {
        const at = Date.now();
        const exit = await withDeadline(proc.stop(signal), deadlineMs);
        const ms = Date.now() - at;
        if (exit === TIMED_OUT) {
          await proc.stop('SIGKILL');
          this.note(`${proc.name} pid ${proc.process.pid} did not exit within ${deadlineMs} ms of ${signal}; killed`);
          return { name: proc.name, exit: 'did not exit', ms };
        }
        this.note(`${proc.name} pid ${proc.process.pid} exited ${String(exit)} ${ms} ms after ${signal}`);
        return { name: proc.name, exit, ms };
      }),
    );
    return results;
  }

  /** Active jobs of a queue that started after `since` (those of a process spawned then). */
  async activeJobIdsSince(queue: QueueName, since: number): Promise<string[]> {
    const jobs = await this.producer.queue(queue).getActive(0, 500);
    return jobs.filter((job) => (job.processedOn ?? 0) >= since).map((job) => String(job.id));
  }

  /** Waits until the live process of a service runs jobs, and returns their ids. */
  async waitForHeldJobs(name: ServiceName, queue: QueueName, timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ids = await this.activeJobIdsSince(queue, this.startedAt(name));
      if (ids.length > 0) return ids;
      if (Date.now() > deadline) throw new Error(`${name} ran no ${queue} job within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** The status of a service's `/readyz`, 0 when it does not answer within 10 s. */
  async readyz(name: ServiceName): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.service(name).port}/readyz`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Polls every service's `/readyz` until each answered 200 once; returns when each did, in ms from the call. */
  async waitForAllReady(timeoutMs: number): Promise<Record<string, number>> {
    const deadline = Date.now() + timeoutMs;
    const readyAt: Record<string, number> = {};
    const start = Date.now();
    while (Object.keys(readyAt).length < SERVICES.length && Date.now() < deadline) {
      await Promise.all(
        SERVICES.filter((name) => readyAt[name] === undefined).map(async (name) => {
          if ((await this.readyz(name)) === 200) readyAt[name] = Date.now() - start;
        }),
      );
      await sleep(200);
    }
    return readyAt;
  }

  /** `kill -9` the live process of a service; resolves once it is gone. */
  async kill(name: ServiceName): Promise<{ pid: number | undefined; at: number }> {
    const proc = this.service(name);
    this.current.delete(name);
    const at = Date.now();
    const result = await proc.stop('SIGKILL');
    this.note(`killed ${name} pid ${proc.process.pid}: ${String(result)}`);
    return { pid: proc.process.pid, at };
  }

  /** A call to the API as the dev tenant, or as the tenant whose key is given. */
  async api(method: string, route: string, body?: unknown, key: string = KEY): Promise<{ status: number; json: any }> {
    const res = await fetch(`${this.apiUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as any };
  }

  /**
   * A second tenant beside the dev one, through the admin API as an operator
   * makes one: enterprise tier (the fault tests' crawls and queries stay far
   * below its limits) and a read/write key.
   */
  async createTenant(name: string): Promise<Tenant> {
    const created = await this.api('POST', '/v1/admin/tenants', { name, tier: 'enterprise' }, ADMIN_KEY);
    if (created.status !== 201) throw new Error(`tenant ${name} not created: ${created.status} ${JSON.stringify(created.json)}`);
    const key = await this.api('POST', `/v1/admin/tenants/${created.json.id}/keys`, { name: `${name}-key`, scopes: ['read', 'write'] }, ADMIN_KEY);
    if (key.status !== 201) throw new Error(`key of ${name} not created: ${key.status} ${JSON.stringify(key.json)}`);
    this.note(`tenant ${name} ${created.json.id} created`);
    return { id: created.json.id as string, name, key: key.json.key as string };
  }

  /** The dev tenant (KBFLOW_DEV_API_KEY), as {@link createTenant} gives the others. */
  async devTenant(): Promise<Tenant> {
    const row = await this.db.tenant.findFirstOrThrow({ where: { name: 'dev' }, select: { id: true } });
    return { id: row.id, name: 'dev', key: KEY };
  }

  /** Uploads NDJSON records for a tenant (`POST /v1/records`); returns the ingest task's id. */
  async uploadRecords(tenant: Tenant, knowledgeBase: string, source: string, records: { id: string; title: string; body: string }[]): Promise<string> {
    const res = await fetch(`${this.apiUrl}/v1/records?knowledgeBase=${knowledgeBase}&source=${source}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/x-ndjson' },
      body: records.map((r) => JSON.stringify(r)).join('\n'),
    });
    const json = (await res.json()) as { taskId: string };
    if (res.status !== 202) throw new Error(`records not accepted: ${res.status} ${JSON.stringify(json)}`);
    this.note(`${records.length} records of ${tenant.name} uploaded: task ${json.taskId}`);
    return json.taskId;
  }

  /**
   * Submits a crawl of the corpus. The HTTP engine keeps Chromium out of
   * these tests: a `kill -9` of the scraper would orphan its browser, and
   * the engines have their own tests.
   */
  async submitCrawl(crawl: CrawlRequest, key: string = KEY): Promise<string> {
    const res = await this.api('POST', '/v1/crawl', { url: this.seedUrl(crawl), maxDepth: crawl.maxDepth, maxPages: crawl.maxPages, engine: 'http' }, key);
    if (res.status !== 202) throw new Error(`crawl not accepted: ${res.status} ${JSON.stringify(res.json)}`);
    this.note(`crawl ${res.json.taskId} submitted: ${JSON.stringify(crawl)}`);
    return res.json.taskId as string;
  }

  seedUrl(crawl: CrawlRequest): string {
    return `${this.site.url}/${crawl.seed}`;
  }

  /** Polls the task over the API until it is final. */
  async waitForTask(taskId: string, timeoutMs: number, key: string = KEY): Promise<TaskJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { json } = await this.api('GET', `/v1/tasks/${taskId}`, undefined, key);
      if (json.state === 'completed' || json.state === 'failed') {
        this.note(`task ${taskId} ${json.state}: ${JSON.stringify(json.progress)}`);
        return json as TaskJson;
      }
      if (Date.now() > deadline) {
        const counts = await this.pageCounts(taskId);
        this.note(`task ${taskId} still ${json.state} after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
        throw new Error(`task ${taskId} still ${json.state} after ${timeoutMs} ms: pages ${JSON.stringify(counts)}; logs in ${this.logDir}`);
      }
      await sleep(500);
    }
  }

  /** Page statuses of a task, read from PostgreSQL. */
  async pageCounts(taskId: string): Promise<PageCounts> {
    const rows = await this.db.taskPage.groupBy({ by: ['status'], where: { taskId }, _count: { _all: true } });
    const counts: PageCounts = { discovered: 0, scraped: 0, skipped: 0, embedded: 0, failed: 0, total: 0 };
    for (const row of rows) {
      counts[row.status as keyof PageCounts] = row._count._all;
      counts.total += row._count._all;
    }
    return counts;
  }

  /** Waits until the task's pages satisfy `ready`; fails with the counts seen last. */
  async waitForPages(taskId: string, what: string, ready: (counts: PageCounts) => boolean, timeoutMs: number, pollMs = 100): Promise<PageCounts> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await this.pageCounts(taskId);
      if (ready(counts)) return counts;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; pages ${JSON.stringify(counts)}`);
      await sleep(pollMs);
    }
  }

  /** Milliseconds since the stack was created, for the timeline. */
  elapsed(): number {
    return Date.now() - this.t0;
  }

  /** Appends a line to this run's timeline.log. */
  note(line: string): void {
    appendFileSync(path.join(this.logDir, 'timeline.log'), `${new Date().toISOString()} +${this.elapsed()}ms ${line}\n`);
  }

  /**
   * Stops every live process with SIGTERM and cleans up. Returns the services
   * that did not exit within 30 s (they are then killed): a process that does
   * not exit is a bug the caller should report.
   */
  async close(): Promise<string[]> {
    const stuck: string[] = [];
    await Promise.all(
      [...this.current.values()].map(async (proc) => {
        const result = await withDeadline(proc.stop('SIGTERM'), EXIT_DEADLINE_MS);
        if (result === TIMED_OUT) {
          stuck.push(`${proc.name} pid ${proc.process.pid}`);
          await proc.stop('SIGKILL');
        }
      }),
    );
    this.current.clear();
    // Anything a test started and lost track of must not outlive the file.
    for (const proc of this.started) if (proc.process.exitCode === null && proc.process.signalCode === null) await proc.stop('SIGKILL');
    this.note(`closed; stuck: ${JSON.stringify(stuck)}`);
    // Best effort: a test that failed while its Redis was down must still clean up the rest.
    const redis = createRedis(this.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      const keys = await redis.keys(`${this.prefix}*`);
      if (keys.length) await redis.del(...keys);
    } catch {
      this.note(`could not delete the keys of ${this.prefix}`);
    } finally {
      redis.disconnect();
    }
    await withDeadline(
      this.producer.close().catch(() => undefined),
      5_000,
    );
    this.redis.disconnect();
    await this.site.close();
    await this.db.$disconnect();
    await this.database.drop();
    await rm(this.lanceDir, { recursive: true, force: true });
    return stuck;
  }
}

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
