import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db } from '@kbflow/db';
import { createLogger, createMetrics } from '@kbflow/observability';
import { ALL_QUEUES, createWorker, someHandlers, Priority, priorityClass, QueueName, startHeartbeat, type JobProducer, type Redis } from '@kbflow/queues';
import { connect } from 'node:net';
import { ADMIN_KEY, DEV_KEY, OTHER_KEY, startTestApi, type SendOptions, type TestApi } from './support/test-api.ts';

let api: TestApi;
let db: Db;
let redis: Redis;
let producer: JobProducer;

beforeAll(async () => {
  api = await startTestApi({ label: 'api', queryTimeoutMs: 2000, recordsMaxBytes: 1024 * 1024 });
  ({ db, redis, producer } = api);
});

afterAll(async () => {
  await api.close();
});

const send = (method: string, path: string, opts?: SendOptions) => api.send(method, path, opts);
const jobTotal = () => api.jobTotal();

describe('bad input', () => {
  const cases: [string, string, string, { key?: string | null; body?: string | object; headers?: Record<string, string> }, number, string, string?][] = [
    ['no API key', 'POST', '/v1/crawl', { key: null, body: { url: 'http://example.com' } }, 401, 'unauthorized'],
    ['a wrong API key', 'POST', '/v1/crawl', { key: 'nope-nope', body: { url: 'http://example.com' } }, 401, 'unauthorized'],
    ['invalid JSON', 'POST', '/v1/crawl', { body: '{"url": ' }, 400, 'invalid_json'],
    ['an unknown field', 'POST', '/v1/crawl', { body: { url: 'http://example.com', colour: 'red' } }, 400, 'unknown_field', 'colour'],
    ['a non-http URL', 'POST', '/v1/crawl', { body: { url: 'ftp://example.com/x' } }, 400, 'invalid_field', 'url'],
    ['a file URL', 'POST', '/v1/scrape', { body: { url: 'file:///etc/passwd' } }, 400, 'invalid_field', 'url'],
    ['a missing URL', 'POST', '/v1/scrape', { body: {} }, 400, 'invalid_field', 'url'],
    ['maxPages of the wrong type', 'POST', '/v1/crawl', { body: { url: 'http://example.com', maxPages: 'lots' } }, 400, 'invalid_field', 'maxPages'],
    ['an empty batch', 'POST', '/v1/scrape/batch', { body: { urls: [] } }, 400, 'invalid_field', 'urls'],
    ['a bad URL inside a batch', 'POST', '/v1/scrape/batch', { body: { urls: ['http://a.example', 'javascript:alert(1)'] } }, 400, 'invalid_field', 'urls.1'],
    ['an empty query', 'POST', '/v1/query', { body: { query: '   ' } }, 400, 'invalid_field', 'query'],
    ['a topK out of range', 'POST', '/v1/search', { body: { query: 'x', topK: 0 } }, 400, 'invalid_field', 'topK'],
    ['an empty text to embed', 'POST', '/v1/embed', { body: { texts: [''] } }, 400, 'invalid_field', 'texts.0'],
    ['a JSON array instead of an object', 'POST', '/v1/crawl', { body: '[1,2]' }, 400, 'invalid_field'],
    [
      'respectRobots that is not a boolean',
      'POST',
      '/v1/crawl',
      { body: { url: 'http://example.com', respectRobots: 'yes' } },
      400,
      'invalid_field',
      'respectRobots',
    ],
    ['an unknown sitemaps mode', 'POST', '/v1/crawl', { body: { url: 'http://example.com', sitemaps: 'sometimes' } }, 400, 'invalid_field', 'sitemaps'],
    [
      'a host concurrency of 0',
      'POST',
      '/v1/crawl',
      { body: { url: 'http://example.com', politeness: { maxConcurrency: 0 } } },
      400,
      'invalid_field',
      'politeness.maxConcurrency',
    ],
    [
      'a negative host delay',
      'POST',
      '/v1/crawl',
      { body: { url: 'http://example.com', politeness: { minDelayMs: -1 } } },
      400,
      'invalid_field',
      'politeness.minDelayMs',
    ],
    [
      'an unknown politeness field',
      'POST',
      '/v1/crawl',
      { body: { url: 'http://example.com', politeness: { rps: 3 } } },
      400,
      'unknown_field',
      'politeness.rps',
    ],
    [
      'an oversized body',
      'POST',
      '/v1/scrape/batch',
      { body: { urls: Array.from({ length: 900 }, (_, i) => `http://example.com/${'x'.repeat(30)}/${i}`) } },
      413,
      'payload_too_large',
    ],
    ['an unknown route', 'GET', '/v1/nothing-here', {}, 404, 'not_found'],
  ];

  const rows = cases.map(([label, method, path, opts, status, code, field]) => ({ label, method, path, opts, status, code, field }));
  it.each(rows)('$label: $method $path → $status $code', async ({ method, path, opts, status, code, field }) => {
    const res = await send(method, path, opts);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(res.json.error.code).toBe(code);
    expect(typeof res.json.error.message).toBe('string');
    if (field) expect(res.json.error.field).toBe(field);
  });

  it('a rejected request writes no row and enqueues no job', async () => {
    for (const [, method, path, opts] of cases) await send(method, path, opts);
    expect(await db.task.count()).toBe(0);
    expect(await db.taskPage.count()).toBe(0);
    expect(await jobTotal()).toBe(0);
  });

  it('an unknown or malformed task id is a 404', async () => {
    expect((await send('GET', '/v1/tasks/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const malformed = await send('GET', '/v1/tasks/not-a-uuid');
    expect(malformed.status).toBe(404);
    expect(malformed.json.error.code).toBe('task_not_found');
  });

  it('a query on a knowledge base that does not exist is a 404 naming the field', async () => {
    const res = await send('POST', '/v1/query', { body: { query: 'hello', knowledgeBase: 'nope' } });
    expect(res.status).toBe(404);
    expect(res.json.error.field).toBe('knowledgeBase');
  });
});

/**
 * Sends the request line, the headers and `sent` bytes of a body announced
 * as 1 MB, never the rest; resolves with what the server answered and
 * whether it closed the connection, or with `null` when it answered nothing
 * while waiting for the body.
 */
async function withheldBody(path: string, headers: Record<string, string>, sent: string): Promise<{ head: string; closed: boolean } | null> {
  const { hostname: host, port } = new URL(api.base);
  const socket = connect(Number(port), host);
  let data = '';
  let closed = false;
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const lines = [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Content-Type: application/json',
    'Content-Length: 1048000',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n${sent}`);
  // Long enough for any answer the server gives without the body; the
  // point is that an answer comes at all, so this is not a timing claim.
  await Promise.race([ended, new Promise((r) => setTimeout(r, 3000))]);
  socket.destroy();
  const head = data.split('\r\n\r\n')[0] ?? '';
  return data === '' ? null : { head, closed };
}

describe('authentication comes before the body', () => {
  it('refuses an anonymous request before reading its body, and closes the connection', async () => {
    const answer = await withheldBody('/v1/crawl', {}, '{"url": "http://example.com/", "pad": "');
    expect(answer?.head).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer?.head).toMatch(/^connection: close$/im);
    expect(answer?.closed).toBe(true);
  }, 15_000);

  it('refuses a wrong key the same way, and a good key waits for the body it announced', async () => {
    const wrong = await withheldBody('/v1/crawl', { Authorization: 'Bearer not-a-key-at-all' }, '{"url": ');
    expect(wrong?.head).toMatch(/^HTTP\/1\.1 401 /);
    // The control: with a valid key the API reads (and waits for) the body.
    expect(await withheldBody('/v1/crawl', { Authorization: `Bearer ${DEV_KEY}` }, '{"url": ')).toBeNull();
  }, 15_000);

  it('answers an anonymous invalid JSON body 401, not 400: it was never parsed', async () => {
    const res = await send('POST', '/v1/crawl', { key: null, body: '{"url": ' });
    expect([res.status, res.json.error.code]).toEqual([401, 'unauthorized']);
  });
});

describe('a record of the largest allowed body that made a pattern backtrack (issue 14, item 2)', () => {
  it('is accepted, chunked and answered while the API stays ready', async () => {
    // `#`, spaces and a U+2028: 2,000 spaces kept POST /v1/records busy 3.1 s before; this is a million characters.
    const body = `#${' '.repeat(999_990)}a\u2028`;
    const [upload, ready] = await Promise.all([
      send('POST', '/v1/records', { body: [{ id: 'worst-case', title: 'Worst case', body }] }),
      send('GET', '/readyz', { key: null }),
    ]);
    expect([upload.status, upload.json.accepted]).toEqual([202, 1]);
    expect(ready.status).toBe(200);
  }, 60_000);
});

describe('task submission', () => {
  it('a crawl is accepted as a flow: a complete-crawl parent waiting on a NORMAL-priority scrape of the seed', async () => {
    const res = await send('POST', '/v1/crawl', { body: { url: 'http://Example.com:80/docs/#intro', maxPages: 20, maxDepth: 2 } });
    expect(res.status).toBe(202);
    const { taskId } = res.json;
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);

    const parent = await producer.queue(QueueName.aggregate).getJob(`crawl-${taskId}`);
    expect(await parent?.getState()).toBe('waiting-children');
    const scrapes = await producer.queue(QueueName.scrape).getJobs(['prioritized', 'waiting']);
    const seed = scrapes.find((j) => j.data.taskId === taskId);
    expect(priorityClass(seed?.opts.priority)).toBe(Priority.NORMAL);
    expect(seed?.data.url).toBe('http://example.com/docs/');
    expect(seed?.parentKey).toContain(`crawl-${taskId}`);

    const status = await send('GET', `/v1/tasks/${taskId}`);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({
      id: taskId,
      type: 'crawl',
      state: 'queued',
      progress: { discovered: 1, scraped: 0, skipped: 0, embedded: 0, failed: 0 },
    });
    expect(Date.parse(status.json.createdAt)).not.toBeNaN();
    expect(status.json.finishedAt).toBeUndefined();
  });

  it('deleteUnreached is off unless asked, is kept in the task params, and must be a boolean', async () => {
    const plain = await send('POST', '/v1/crawl', { body: { url: 'http://example.com/plain/' } });
    expect((await send('GET', `/v1/tasks/${plain.json.taskId}`)).json.params.deleteUnreached).toBe(false);
    const asked = await send('POST', '/v1/crawl', { body: { url: 'http://example.com/pruned/', deleteUnreached: true } });
    expect(asked.status).toBe(202);
    expect((await send('GET', `/v1/tasks/${asked.json.taskId}`)).json.params.deleteUnreached).toBe(true);
    const bad = await send('POST', '/v1/crawl', { body: { url: 'http://example.com/bad/', deleteUnreached: 'yes' } });
    expect([bad.status, bad.json.error.field]).toEqual([400, 'deleteUnreached']);
  });

  it("another tenant cannot see a tenant's task", async () => {
    const { json } = await send('POST', '/v1/scrape', { body: { url: 'http://example.com/a' } });
    expect((await send('GET', `/v1/tasks/${json.taskId}`, { key: OTHER_KEY })).status).toBe(404);
    expect((await send('GET', `/v1/tasks/${json.taskId}`)).status).toBe(200);
  });

  it('a batch scrape deduplicates its URLs and seeds one scrape job per page', async () => {
    const res = await send('POST', '/v1/scrape/batch', { body: { urls: ['http://example.com/b', 'http://example.com/b#x', 'http://example.com/c'] } });
    expect(res.status).toBe(202);
    const task = await send('GET', `/v1/tasks/${res.json.taskId}`);
    expect(task.json.progress.discovered).toBe(2);
    expect(task.json.type).toBe('batch-scrape');
  });

  it("GET /v1/queues lists every queue with its counts to the admin, a tenant's own work to a tenant key", async () => {
    const own = await send('GET', '/v1/queues');
    expect([own.status, own.json.scope, own.json.queues]).toEqual([200, 'tenant', undefined]);
    expect(Object.values(own.json.tasks as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const res = await send('GET', '/v1/queues', { key: ADMIN_KEY });
    expect([res.status, res.json.scope]).toEqual([200, 'all']);
    expect(res.json.queues.map((q: { name: string }) => q.name).sort()).toEqual([...ALL_QUEUES].sort());
    const scrape = res.json.queues.find((q: { name: string }) => q.name === 'scrape');
    expect(scrape.counts.prioritized).toBeGreaterThanOrEqual(4);
  });
});

describe('health, metrics and Bull Board', () => {
  it('serves /healthz and /readyz without a key; /metrics is not on the public port', async () => {
    expect((await send('GET', '/healthz', { key: null })).json).toEqual({ status: 'ok' });
    const ready = await send('GET', '/readyz', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.json.checks.redis).toBe('ok');
    // Not public, with or without a key: main.ts serves the registry on KBFLOW_METRICS_PORT.
    for (const key of [null, ADMIN_KEY]) expect((await send('GET', '/metrics', { key })).status).toBe(404);
    const metrics = await api.metrics();
    expect(metrics).toContain('kbflow_http_request_duration_seconds_bucket{');
    expect(metrics).toContain('route="/v1/crawl"');
  });

  it('Bull Board refuses a missing or non-admin key and serves the admin', async () => {
    expect((await send('GET', '/admin/queues', { key: null })).status).toBe(401);
    expect((await send('GET', '/admin/queues')).status).toBe(403);
    const ok = await send('GET', '/admin/queues', { key: ADMIN_KEY });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('kbflow');
    const board = await send('GET', '/admin/queues/api/queues?activeQueue=scrape&page=1&jobsPerPage=10', { key: ADMIN_KEY });
    expect(board.status).toBe(200);
    expect(board.json.queues.map((q: { name: string }) => q.name)).toEqual(
      expect.arrayContaining(['scrape', 'embed', 'aggregate', 'query', 'maintenance', 'dead-letter']),
    );
  });
});

describe('operations endpoints', () => {
  it('exports queue depth per state and the age of the oldest waiting job', async () => {
    const metrics = await api.metrics();
    const line = (name: string, labels: string[]) => metrics.split('\n').find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
    const scrapeBacklog = Number(line('kbflow_queue_jobs', ['queue="scrape"', 'state="prioritized"'])!.split(' ').pop());
    expect(scrapeBacklog).toBe(Number((await producer.queue(QueueName.scrape).getJobCounts('prioritized')).prioritized));
    expect(scrapeBacklog).toBeGreaterThan(0);
    const age = Number(line('kbflow_queue_oldest_job_age_seconds', ['queue="scrape"'])!.split(' ').pop());
    expect(age).toBeGreaterThan(0);
    expect(Number(line('kbflow_queue_oldest_job_age_seconds', ['queue="query"'])!.split(' ').pop())).toBe(0);
  });

  it('GET /v1/workers lists live replicas from their heartbeats and forgets stopped ones', async () => {
    const beats = [1, 2, 3].map(() => startHeartbeat(redis, producer.prefix, { service: 'embedder', concurrency: { embed: 4 } }));
    const asTenant = await send('GET', '/v1/workers');
    expect(asTenant.json).toEqual({ services: expect.objectContaining({ embedder: 3 }) });
    expect(asTenant.text).not.toContain(String(process.pid));
    const res = await send('GET', '/v1/workers', { key: ADMIN_KEY });
    expect(res.json.services.embedder).toBe(3);
    expect(res.json.workers[0]).toMatchObject({ service: 'embedder', concurrency: { embed: 4 }, version: '0.1.0', pid: process.pid });
    await Promise.all(beats.slice(0, 2).map((b) => b.stop()));
    expect((await send('GET', '/v1/workers')).json.services.embedder).toBe(1);
    await beats[2]!.stop();
    expect((await send('GET', '/v1/workers')).json.services.embedder).toBeUndefined();
  });

  it('GET /v1/stats reports throughput, error rate and latency percentiles per queue', async () => {
    const worker = createWorker({
      queue: QueueName.maintenance,
      handlers: someHandlers(QueueName.maintenance, {
        'health-check': async () => {
          await new Promise((r) => setTimeout(r, 20));
          return { ok: true };
        },
        'compact-vector-store': async () => {
          throw new Error('not used here');
        },
      }),
      connection: redis,
      producer,
      log: createLogger('stats-test', 'silent'),
      registry: createMetrics('stats-test').registry,
      concurrency: 2,
    });
    try {
      const jobs = await producer.enqueueBulk(
        QueueName.maintenance,
        'health-check',
        Array.from({ length: 6 }, () => ({ data: {}, opts: { priority: Priority.LOW } })),
      );
      const deadline = Date.now() + 10_000;
      while ((await producer.queue(QueueName.maintenance).getCompletedCount()) < jobs.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.close();
    }
    const own = await send('GET', '/v1/stats');
    expect([own.status, own.json.scope, own.json.queues]).toEqual([200, 'tenant', undefined]);
    const res = await send('GET', '/v1/stats', { key: ADMIN_KEY });
    expect([res.status, res.json.scope]).toEqual([200, 'all']);
    const maintenance = res.json.queues.find((q: { name: string }) => q.name === 'maintenance');
    expect(maintenance.totals.completed).toBe(6);
    expect(maintenance.throughputPerMinute.completed).toBeCloseTo(6 / 15, 5);
    expect(maintenance.errorRate).toBe(0);
    expect(maintenance.latencyMs.sample).toBe(6);
    expect(maintenance.latencyMs.processing.p50).toBeGreaterThanOrEqual(19);
    expect(maintenance.latencyMs.processing.p99).toBeGreaterThanOrEqual(maintenance.latencyMs.processing.p50);
    expect(res.json.queues.map((q: { name: string }) => q.name).sort()).toEqual([...ALL_QUEUES].sort());
  });
});
