import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, Priority, QueueName, type Redis } from '@kbflow/queues';
import { freePort } from '@kbflow/testing';
import type { Worker } from 'bullmq';
import { parseMemoryInfo } from '../src/http/admission.ts';
import { ADMIN_KEY, sleep, startTestApi, type TestApi } from './support/test-api.ts';

const TENANT = '00000000-0000-4000-8000-000000000001';

/** Answers queries and searches at once, so a served request is a 200. */
function queryWorker(api: TestApi): Worker {
  return createWorker({
    queue: QueueName.query,
    handlers: {
      'answer-query': async () => ({ answer: 'served', citations: [], mode: 'hybrid', timings: {} }),
      'search-chunks': async () => ({ results: [], timings: {} }),
    },
    connection: api.redis,
    producer: api.producer,
    log: createLogger('admission-test', 'silent'),
    registry: createMetrics('admission-test').registry,
  });
}

/** Fills the scrape queue with `count` waiting jobs. */
async function backlog(api: TestApi, count: number, from = 0) {
  await api.producer.enqueueBulk(
    QueueName.scrape,
    'scrape-page',
    Array.from({ length: count }, (_, i) => ({
      data: { tenantId: TENANT, taskId: TENANT, url: `http://example.com/backlog/${from + i}`, depth: 0 },
      opts: { priority: Priority.NORMAL },
    })),
  );
}

describe('admission control on the scrape backlog', () => {
  let api: TestApi;
  let worker: Worker;

  beforeAll(async () => {
    api = await startTestApi({ label: 'adm', admission: { redisMemoryRatio: 0.9, maxBacklog: 5 } });
    worker = queryWorker(api);
    await api.tenants.knowledgeBaseId((await api.db.tenant.findUniqueOrThrow({ where: { name: 'dev' } })).id, 'default');
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
  });

  it('accepts crawls up to the limit, then refuses new ones with 503 overloaded and Retry-After while queries are still served', async () => {
    await backlog(api, 4);
    const accepted = await api.send('POST', '/v1/crawl', { body: { url: 'http://example.com/docs/' } });
    expect(accepted.status).toBe(202);
    await backlog(api, 1, 100); // 4 + the crawl's seed + 1 = 6 waiting scrape jobs, over the limit of 5
    await sleep(1100); // the measurement is cached for a second

    const tasks = await api.db.task.count();
    const jobs = await api.jobTotal();
    for (const [path, body] of [
      ['/v1/crawl', { url: 'http://example.com/more/' }],
      ['/v1/scrape', { url: 'http://example.com/page' }],
      ['/v1/scrape/batch', { urls: ['http://example.com/x', 'http://example.com/y'] }],
    ] as const) {
      const res = await api.send('POST', path, { body });
      expect([path, res.status, res.json.error.code]).toEqual([path, 503, 'overloaded']);
      expect(res.json.error.message).toContain('the scrape queue has 6 jobs waiting (limit 5)');
      expect(res.headers.get('retry-after')).toBe('10');
    }
    expect(await api.db.task.count()).toBe(tasks);
    expect(await api.jobTotal()).toBe(jobs);

    const query = await api.send('POST', '/v1/query', { body: { query: 'still there?' } });
    expect([query.status, query.json.answer]).toEqual([200, 'served']);
    expect((await api.send('POST', '/v1/search', { body: { query: 'still there?' } })).status).toBe(200);

    expect(await api.metrics()).toMatch(/kbflow_admission_rejected_total\{queue="scrape",reason="backlog"[^}]*\} 3\n/);
  });

  it('a refused request with an Idempotency-Key releases it, so the retry after the backlog drains runs', async () => {
    const headers = { 'Idempotency-Key': 'adm-retry-1' };
    expect((await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/later' }, headers })).status).toBe(503);
    await api.producer.queue(QueueName.scrape).drain();
    await sleep(1100);
    const retry = await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/later' }, headers });
    expect(retry.status).toBe(202);
  });

  it('a dead-letter replay into a queue over its limit is refused too', async () => {
    await backlog(api, 6, 200);
    await sleep(1100);
    const dl = await api.producer.enqueue(
      QueueName.deadLetter,
      'dead-letter',
      {
        queue: 'scrape',
        jobName: 'scrape-page',
        jobId: 'x',
        data: { tenantId: TENANT, taskId: TENANT, url: 'http://example.com/dl', depth: 0 },
        error: 'e',
        attemptsMade: 3,
        failedAt: new Date().toISOString(),
      },
      { priority: Priority.LOW },
    );
    const res = await api.send('POST', `/v1/dead-letters/${dl.id}/replay`, { key: ADMIN_KEY });
    expect([res.status, res.json.error.code]).toEqual([503, 'overloaded']);
    expect(await api.producer.queue(QueueName.deadLetter).getJob(String(dl.id))).toBeDefined();
  });
});

describe("admission control on Redis memory, on a Redis of the test's own", () => {
  let server: ChildProcess;
  let port: number;
  let admin: Redis;
  let api: TestApi;
  let worker: Worker;

  beforeAll(async () => {
    port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    admin = createRedis(`redis://127.0.0.1:${port}`);
    const deadline = Date.now() + 10_000;
    while ((await admin.ping().catch(() => 'down')) !== 'PONG') {
      if (Date.now() > deadline) throw new Error('the test redis-server did not start');
      await sleep(50);
    }
    api = await startTestApi({ label: 'mem', redisUrl: `redis://127.0.0.1:${port}`, admission: { redisMemoryRatio: 0.5, maxBacklog: 100_000 } });
    worker = queryWorker(api);
    await api.tenants.knowledgeBaseId((await api.db.tenant.findUniqueOrThrow({ where: { name: 'dev' } })).id, 'default');
  });

  afterEach(async () => {
    await admin.config('SET', 'maxmemory', '0');
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await admin.quit();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(undefined)));
  });

  it('refuses new crawls when used_memory nears maxmemory, still serves queries, and admits again once memory is freed', async () => {
    const { used } = parseMemoryInfo(await admin.info('memory'));
    // used / max ≈ 0.67: over the 0.5 threshold, with room left for the query's own job.
    await admin.config('SET', 'maxmemory', String(Math.ceil(used * 1.5)));
    await sleep(1100);

    const refused = await api.send('POST', '/v1/crawl', { body: { url: 'http://example.com/' } });
    expect([refused.status, refused.json.error.code]).toEqual([503, 'overloaded']);
    expect(refused.json.error.message).toMatch(/Redis is at \d+% of its maxmemory \(limit 50%\)/);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(await api.db.task.count()).toBe(0);

    const query = await api.send('POST', '/v1/query', { body: { query: 'anyone?' } });
    expect([query.status, query.json.answer]).toEqual([200, 'served']);

    await admin.config('SET', 'maxmemory', '0');
    await sleep(1100);
    expect((await api.send('POST', '/v1/crawl', { body: { url: 'http://example.com/' } })).status).toBe(202);
  });

  it('measures at most about once a second, however many requests arrive', async () => {
    const infoCalls = async () => Number(/cmdstat_info:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    await sleep(1100);
    const before = await infoCalls();
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => api.send('POST', '/v1/scrape', { body: { url: `http://example.com/burst/${i}` } })));
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(results.every((r) => r.status === 202)).toBe(true);
    // One INFO memory per started second (the second INFO commandstats is ours).
    const measured = (await infoCalls()) - before - 1;
    expect(measured).toBeGreaterThanOrEqual(1);
    expect(measured).toBeLessThanOrEqual(seconds + 1);
    expect(measured).toBeLessThan(10);
  });

  it('no maxmemory means no memory limit', async () => {
    expect(parseMemoryInfo('# Memory\r\nused_memory:123456\r\nmaxmemory:0\r\n')).toEqual({ used: 123456, max: 0 });
    await sleep(1100);
    expect((await api.send('POST', '/v1/scrape', { body: { url: 'http://example.com/unbounded' } })).status).toBe(202);
  });
});
