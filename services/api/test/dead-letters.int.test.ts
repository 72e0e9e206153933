import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { PermanentError } from '@kbflow/errors';
import { createWorker, someHandlers, DeadLetters, Priority, priorityClass, QueueName, type JobProducer, type Redis } from '@kbflow/queues';
import { ADMIN_KEY, startTestApi, type TestApi } from './support/test-api.ts';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ label: 'dlq' });
});

afterAll(async () => {
  await api.close();
});

const TENANT = '00000000-0000-4000-8000-000000000001';
const TASK = '00000000-0000-4000-8000-0000000000aa';

/** A dead letter exactly as the worker wrapper writes one (DeadLetters.record: the entry and its index). */
async function deadLetter(
  producer: JobProducer,
  origin: string,
  jobName: string,
  jobId: string,
  data: unknown,
  error = 'fetch_failed: boom',
  redis: Redis = api.redis,
) {
  await new DeadLetters(producer, redis).record({
    queue: origin,
    jobName,
    jobId,
    data,
    error,
    attemptsMade: 3,
    failedAt: new Date().toISOString(),
    stacktrace: ['Error: boom', '    at somewhere'],
  });
  return DeadLetters.idOf(origin, jobId);
}

const scrapeData = (n: number) => ({ tenantId: TENANT, taskId: TASK, url: `http://example.com/${n}`, depth: 0, engine: 'http' as const });

async function clearDeadLetters() {
  await api.producer.queue(QueueName.deadLetter).obliterate({ force: true });
  // The index and the handled set live beside the queue (dead-letters.ts).
  const keys = await api.redis.keys(`${api.producer.prefix}:${QueueName.deadLetter}:*`);
  if (keys.length > 0) await api.redis.del(...keys);
}

describe('dead letters', () => {
  it('a job that fails for good is listed with its origin queue, name, id, data, error, attempts, time and stack', async () => {
    await clearDeadLetters();
    const worker = createWorker({
      queue: QueueName.maintenance,
      handlers: someHandlers(QueueName.maintenance, {
        'health-check': async () => {
          throw new PermanentError('dependency_down', 'the vector store is not answering');
        },
        'compact-vector-store': async () => undefined,
      }),
      connection: api.redis,
      producer: api.producer,
      log: createLogger('dlq-test', 'silent'),
      registry: createMetrics('dlq-test').registry,
    });
    try {
      const job = await api.producer.enqueue(QueueName.maintenance, 'health-check', { correlationId: 'c-1' }, { priority: Priority.LOW });
      const deadline = Date.now() + 10_000;
      let listed: any;
      while (Date.now() < deadline) {
        listed = (await api.send('GET', '/v1/dead-letters', { key: ADMIN_KEY })).json;
        if (listed.total > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(listed.total).toBe(1);
      expect(listed.deadLetters[0]).toMatchObject({
        queue: 'maintenance',
        jobName: 'health-check',
        jobId: String(job.id),
        data: { correlationId: 'c-1' },
        error: 'dependency_down: the vector store is not answering',
        attempts: 1,
      });
      expect(Date.parse(listed.deadLetters[0].failedAt)).not.toBeNaN();
      expect(listed.deadLetters[0].stacktrace.join('\n')).toContain('dependency_down');
    } finally {
      await worker.close();
    }
  });

  it('only the admin key may replay or delete dead letters', async () => {
    for (const [method, path] of [
      ['POST', '/v1/dead-letters/x/replay'],
      ['DELETE', '/v1/dead-letters/x'],
    ] as const) {
      expect((await api.send(method, path, { key: null })).status).toBe(401);
      const forbidden = await api.send(method, path);
      expect(forbidden.status).toBe(403);
      expect(forbidden.json.error.code).toBe('forbidden');
    }
  });

  it('pages through dead letters with limit and offset, newest first, and filters by origin queue', async () => {
    await clearDeadLetters();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await deadLetter(api.producer, 'scrape', 'scrape-page', `s${i}`, scrapeData(i)));
    for (let i = 0; i < 2; i++) ids.push(await deadLetter(api.producer, 'embed', 'embed-texts', `e${i}`, { tenantId: TENANT, texts: [`t${i}`] }));

    const pages = [];
    for (const offset of [0, 3, 6]) pages.push((await api.send('GET', `/v1/dead-letters?limit=3&offset=${offset}`, { key: ADMIN_KEY })).json);
    expect(pages.map((p) => p.total)).toEqual([7, 7, 7]);
    expect(pages.map((p) => p.deadLetters.length)).toEqual([3, 3, 1]);
    const seen = pages.flatMap((p) => p.deadLetters.map((d: { id: string }) => d.id));
    expect(seen).toEqual([...ids].reverse());

    const embed = (await api.send('GET', '/v1/dead-letters?queue=embed', { key: ADMIN_KEY })).json;
    expect(embed.total).toBe(2);
    expect(embed.deadLetters.map((d: { jobName: string }) => d.jobName)).toEqual(['embed-texts', 'embed-texts']);
    const embedPage = (await api.send('GET', '/v1/dead-letters?queue=scrape&limit=2&offset=4', { key: ADMIN_KEY })).json;
    expect([embedPage.total, embedPage.deadLetters.length]).toEqual([5, 1]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['offset=-1', 'offset'],
    ['queue=dead-letter', 'queue'],
    ['queue=nope', 'queue'],
    ['colour=red', 'colour'],
  ])('a bad listing parameter (%s) is a 400 naming %s', async (query, field) => {
    const res = await api.send('GET', `/v1/dead-letters?${query}`, { key: ADMIN_KEY });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe(field);
  });

  it('a replay re-enqueues the original job into its queue with its name and data, a new id and LOW priority, and removes the entry', async () => {
    await clearDeadLetters();
    const id = await deadLetter(api.producer, 'scrape', 'scrape-page', 'orig-7', scrapeData(7));
    const res = await api.send('POST', `/v1/dead-letters/${id}/replay`, { key: ADMIN_KEY });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ id, queue: 'scrape', jobName: 'scrape-page', priority: Priority.LOW });
    expect(res.json.jobId).not.toBe('orig-7');

    const replayed = await api.producer.queue(QueueName.scrape).getJob(res.json.jobId);
    expect(replayed?.name).toBe('scrape-page');
    expect(replayed?.data).toEqual(scrapeData(7));
    expect(priorityClass(replayed?.opts.priority)).toBe(Priority.LOW);
    expect(await replayed?.getState()).toBe('prioritized');
    expect(await api.producer.queue(QueueName.deadLetter).getJob(id)).toBeUndefined();
    expect((await api.send('GET', '/v1/dead-letters', { key: ADMIN_KEY })).json.total).toBe(0);
    await replayed?.remove();
  });

  it('a replayed query runs at CRITICAL priority', async () => {
    const id = await deadLetter(api.producer, 'query', 'search-chunks', 'q-1', {
      tenantId: TENANT,
      knowledgeBaseId: TASK,
      query: 'hello',
      topK: 3,
      mode: 'hybrid',
    });
    const res = await api.send('POST', `/v1/dead-letters/${id}/replay`, { key: ADMIN_KEY });
    expect(res.status).toBe(202);
    const replayed = await api.producer.queue(QueueName.query).getJob(res.json.jobId);
    expect(priorityClass(replayed?.opts.priority)).toBe(Priority.CRITICAL);
    await replayed?.remove();
  });

  it('concurrent replays of one entry enqueue the job once', async () => {
    await clearDeadLetters();
    const scrape = api.producer.queue(QueueName.scrape);
    const before = (await scrape.getJobCounts('prioritized')).prioritized ?? 0;
    const id = await deadLetter(api.producer, 'scrape', 'scrape-page', 'race-1', scrapeData(42));
    const results = await Promise.all(Array.from({ length: 8 }, () => api.send('POST', `/v1/dead-letters/${id}/replay`, { key: ADMIN_KEY })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s !== 202).every((s) => s === 409 || s === 404)).toBe(true);
    expect((await scrape.getJobCounts('prioritized')).prioritized).toBe(before + 1);
    const jobs = await scrape.getJobs(['prioritized']);
    expect(jobs.filter((j) => j.data.url === 'http://example.com/42')).toHaveLength(1);
    // And once more, after the dust settles: the entry is gone.
    const again = await api.send('POST', `/v1/dead-letters/${id}/replay`, { key: ADMIN_KEY });
    expect([again.status, again.json.error.code]).toEqual([404, 'dead_letter_not_found']);
    await Promise.all(jobs.map((j) => j.remove()));
  });

  it('a payload the catalog no longer accepts is refused with 422 and the entry is kept', async () => {
    await clearDeadLetters();
    const id = await deadLetter(api.producer, 'scrape', 'scrape-page', 'bad-1', { tenantId: TENANT, url: 'not a url' });
    const res = await api.send('POST', `/v1/dead-letters/${id}/replay`, { key: ADMIN_KEY });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('dead_letter_invalid');
    expect(await api.producer.queue(QueueName.deadLetter).getJob(id)).toBeDefined();
    const unknown = await deadLetter(api.producer, 'scrape', 'scrape-everything', 'bad-2', scrapeData(1));
    expect((await api.send('POST', `/v1/dead-letters/${unknown}/replay`, { key: ADMIN_KEY })).json.error.code).toBe('dead_letter_unreplayable');
  });

  it('deleting removes the entry (204); an unknown id is a 404 for replay and delete', async () => {
    await clearDeadLetters();
    const id = await deadLetter(api.producer, 'embed', 'embed-texts', 'del-1', { tenantId: TENANT, texts: ['x'] });
    const deleted = await api.send('DELETE', `/v1/dead-letters/${id}`, { key: ADMIN_KEY });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(await api.producer.queue(QueueName.deadLetter).getJob(id)).toBeUndefined();
    for (const [method, path] of [
      ['DELETE', `/v1/dead-letters/${id}`],
      ['POST', `/v1/dead-letters/${id}/replay`],
      ['POST', '/v1/dead-letters/never-existed/replay'],
    ] as const) {
      const res = await api.send(method, path, { key: ADMIN_KEY });
      expect([res.status, res.json.error.code]).toEqual([404, 'dead_letter_not_found']);
    }
  });
});
