// Sources, task cancel and task list through the real API (in-process) over
// the real Redis and PostgreSQL, without workers: the job schedulers are
// read back from BullMQ, runs stay queued (so "a run is in progress" holds
// for as long as a test needs), and cancelling them is checked in the rows.
// The full path (runs crawling a site, the schedule firing after a
// maintenance restart, cancelling a 600-page crawl) is test/e2e/sources.int.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName, sourceSchedulerKey, type JobProducer } from '@kbflow/queues';
import type { Db } from '@kbflow/db';
import { OTHER_KEY, startTestApi, type TestApi } from './support/test-api.ts';

let api: TestApi;
let db: Db;
let producer: JobProducer;

beforeAll(async () => {
  api = await startTestApi({ label: 'sources', sourceMinIntervalMs: 60_000 });
  ({ db, producer } = api);
});

afterAll(async () => {
  await api.close();
});

const scheduler = (id: string) => producer.queue(QueueName.maintenance).getJobScheduler(sourceSchedulerKey(id));
const site = { type: 'site', url: 'http://docs.example/start', schedule: { cron: '0 3 * * *', tz: 'Europe/Paris' } };

describe('sources: create, read, update, delete', () => {
  let id: string;

  it('creates a source with every field stored and returned, and registers its job scheduler', async () => {
    const res = await api.send('POST', '/v1/sources', {
      body: {
        ...site,
        knowledgeBase: 'docs',
        includePaths: ['^/docs/'],
        excludePaths: ['\\.pdf$'],
        maxPages: 50,
        maxDepth: 3,
        engine: 'http',
        respectRobots: false,
        sitemaps: 'off',
        politeness: { maxConcurrency: 2, minDelayMs: 250 },
        deleteUnreached: false,
      },
    });
    expect(res.status).toBe(201);
    id = res.json.id;
    expect(res.json).toMatchObject({
      type: 'site',
      url: 'http://docs.example/start',
      knowledgeBase: 'docs',
      schedule: { cron: '0 3 * * *', tz: 'Europe/Paris' },
      includePaths: ['^/docs/'],
      excludePaths: ['\\.pdf$'],
      maxPages: 50,
      maxDepth: 3,
      engine: 'http',
      respectRobots: false,
      sitemaps: 'off',
      politeness: { maxConcurrency: 2, minDelayMs: 250 },
      deleteUnreached: false,
    });
    expect(res.json.lastRun).toBeUndefined();
    expect(Date.parse(res.json.nextRunAt)).toBeGreaterThan(Date.now());
    const s = await scheduler(id);
    expect(s).toMatchObject({ pattern: '0 3 * * *', tz: 'Europe/Paris', name: 'run-source' });
  });

  it('applies the defaults: robots respected, sitemaps auto, unreached pages deleted', async () => {
    const res = await api.send('POST', '/v1/sources', { body: { type: 'site', url: 'http://other.example/', schedule: { every: '6h' } } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      knowledgeBase: 'default',
      maxPages: 200,
      maxDepth: 5,
      engine: 'auto',
      respectRobots: true,
      sitemaps: 'auto',
      deleteUnreached: true,
      includePaths: [],
      excludePaths: [],
    });
    expect(res.json.politeness).toBeUndefined();
    expect(await scheduler(res.json.id)).toMatchObject({ every: 6 * 3600 * 1000 });
    expect((await api.send('DELETE', `/v1/sources/${res.json.id}`)).status).toBe(204);
  });

  it("lists the tenant's sources, paginated", async () => {
    const second = await api.send('POST', '/v1/sources', { body: { ...site, url: 'http://second.example/' } });
    const first = await api.send('GET', '/v1/sources?limit=1');
    expect(first.status).toBe(200);
    expect(first.json.sources.map((s: { id: string }) => s.id)).toEqual([id]);
    const rest = await api.send('GET', `/v1/sources?limit=1&after=${first.json.nextCursor}`);
    expect(rest.json.sources.map((s: { id: string }) => s.id)).toEqual([second.json.id]);
    expect(rest.json.nextCursor).toBeUndefined();
    await api.send('DELETE', `/v1/sources/${second.json.id}`);
  });

  it('a PATCH of the schedule replaces the job scheduler; other fields are kept', async () => {
    const res = await api.send('PATCH', `/v1/sources/${id}`, { body: { schedule: { every: '2h' }, maxPages: 80, politeness: null } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ schedule: { every: '2h' }, maxPages: 80, maxDepth: 3, includePaths: ['^/docs/'] });
    expect(res.json.politeness).toBeUndefined();
    const s = await scheduler(id);
    expect(s?.every).toBe(2 * 3600 * 1000);
    expect(s?.pattern ?? undefined).toBeUndefined();
  });

  it('refuses a PATCH of the type or the knowledge base, and a bad schedule, changing nothing', async () => {
    for (const [body, field] of [
      [{ knowledgeBase: 'other' }, 'knowledgeBase'],
      [{ type: 'site' }, 'type'],
      [{ schedule: { every: '10s' } }, 'schedule.every'],
    ] as const) {
      const res = await api.send('PATCH', `/v1/sources/${id}`, { body });
      expect(res.status).toBe(400);
      expect(res.json.error.field).toBe(field);
    }
    expect((await scheduler(id))?.every).toBe(2 * 3600 * 1000);
    expect((await api.send('GET', `/v1/sources/${id}`)).json.schedule).toEqual({ every: '2h' });
  });

  it("another tenant's source is a 404 on every route, and stays untouched", async () => {
    for (const [method, path, body] of [
      ['GET', `/v1/sources/${id}`],
      ['PATCH', `/v1/sources/${id}`, { maxPages: 1 }],
      ['DELETE', `/v1/sources/${id}?purge=true`],
      ['POST', `/v1/sources/${id}/runs`],
      ['GET', `/v1/sources/${id}/runs`],
    ] as const) {
      const res = await api.send(method, path, { key: OTHER_KEY, ...(body ? { body } : {}) });
      expect([method, path, res.status, res.json.error.code]).toEqual([method, path, 404, 'source_not_found']);
    }
    expect((await api.send('GET', '/v1/sources', { key: OTHER_KEY })).json.sources).toEqual([]);
    expect((await api.send('GET', `/v1/sources/${id}`)).json.maxPages).toBe(80);
    expect(await scheduler(id)).toBeDefined();
    expect(await db.task.count({ where: { sourceId: id } })).toBe(0);
  });

  it('a run now is a crawl task linked to the source; a second one while it is in progress is a 409 naming it', async () => {
    const run = await api.send('POST', `/v1/sources/${id}/runs`);
    expect(run.status).toBe(202);
    const task = await db.task.findUniqueOrThrow({ where: { id: run.json.taskId } });
    expect(task).toMatchObject({ type: 'crawl', state: 'queued', sourceId: id });
    expect(task.params).toMatchObject({
      seeds: ['http://docs.example/start'],
      maxPages: 80,
      includePaths: ['^/docs/'],
      excludePaths: ['\\.pdf$'],
      deleteUnreached: false,
      respectRobots: false,
      sitemaps: 'off',
      trigger: 'manual',
    });
    const crawlJob = await producer.queue(QueueName.aggregate).getJob(`crawl-${run.json.taskId}`);
    expect(crawlJob?.data).toMatchObject({ taskId: run.json.taskId, deleteUnreached: false });

    const again = await api.send('POST', `/v1/sources/${id}/runs`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: 'run_in_progress', message: `run ${run.json.taskId} is in progress` });
    expect(await db.task.count({ where: { sourceId: id } })).toBe(1);

    const runs = await api.send('GET', `/v1/sources/${id}/runs`);
    expect(runs.json.runs).toEqual([
      expect.objectContaining({
        taskId: run.json.taskId,
        state: 'queued',
        trigger: 'manual',
        report: { new: 0, changed: 0, unchanged: 0, notModified: 0, deleted: 0, failed: 0, bytesFetched: 0, durationMs: 0 },
      }),
    ]);
    const listed = await api.send('GET', `/v1/sources/${id}`);
    expect(listed.json.lastRun.taskId).toBe(run.json.taskId);
  });

  it('deleting a source removes its scheduler and cancels its run in progress; it is gone after', async () => {
    const [active] = await db.task.findMany({ where: { sourceId: id } });
    const res = await api.send('DELETE', `/v1/sources/${id}`);
    expect(res.status).toBe(204);
    expect(await scheduler(id)).toBeUndefined();
    expect((await db.task.findUniqueOrThrow({ where: { id: active!.id } })).state).toBe('cancelling');
    expect((await api.send('GET', `/v1/sources/${id}`)).status).toBe(404);
    expect((await api.send('DELETE', `/v1/sources/${id}`)).status).toBe(404);
  });

  it('deleting with purge=true answers with a purge task for maintenance', async () => {
    const created = await api.send('POST', '/v1/sources', { body: site });
    const res = await api.send('DELETE', `/v1/sources/${created.json.id}?purge=true`);
    expect(res.status).toBe(202);
    expect(await db.task.findUniqueOrThrow({ where: { id: res.json.taskId } })).toMatchObject({ type: 'purge', state: 'queued', sourceId: created.json.id });
    const job = await producer.queue(QueueName.maintenance).getJob(`purge-${res.json.taskId}`);
    expect(job?.name).toBe('purge-source');
  });
});

describe('sources: bad input is a 400 naming the field, and writes nothing', () => {
  const cases: [string, object, string][] = [
    ['no schedule', { type: 'site', url: 'http://a.example/' }, 'schedule'],
    ['a schedule of neither kind', { ...site, schedule: { daily: true } }, 'schedule'],
    ['both every and cron', { ...site, schedule: { every: '1h', cron: '0 * * * *' } }, 'schedule'],
    ['an interval that is not a duration', { ...site, schedule: { every: 'often' } }, 'schedule.every'],
    ['an interval below the minimum', { ...site, schedule: { every: '30s' } }, 'schedule.every'],
    ['a cron pattern that does not parse', { ...site, schedule: { cron: '61 * * * *' } }, 'schedule.cron'],
    ['a cron with more than one run a minute', { ...site, schedule: { cron: '*/10 * * * * *' } }, 'schedule.cron'],
    ['a cron with seven fields', { ...site, schedule: { cron: '0 0 0 * * * *' } }, 'schedule.cron'],
    ['an unknown time zone', { ...site, schedule: { cron: '0 * * * *', tz: 'Mars/Olympus' } }, 'schedule.tz'],
    ['an unknown field', { ...site, colour: 'red' }, 'colour'],
    ['a webhook without its secret', { ...site, webhook: { url: 'http://hooks.example/' } }, 'webhook.secret'],
    ['another type', { ...site, type: 'feed' }, 'type'],
    ['a non-http URL', { ...site, url: 'ftp://a.example/' }, 'url'],
    ['an include pattern that does not compile', { ...site, includePaths: ['^/docs/', '(unclosed'] }, 'includePaths.1'],
    ['an exclude pattern with lookahead (not linear: RE2 refuses it)', { ...site, excludePaths: ['(?=x)'] }, 'excludePaths.0'],
    ['a backreference', { ...site, includePaths: ['(a)\\1'] }, 'includePaths.0'],
    ['politeness with an unknown field', { ...site, politeness: { burst: 2 } }, 'politeness.burst'],
    ['politeness out of range', { ...site, politeness: { maxConcurrency: 0 } }, 'politeness.maxConcurrency'],
    ['sitemaps of another value', { ...site, sitemaps: 'always' }, 'sitemaps'],
  ];

  it.each(cases)('%s', async (_name, body, field) => {
    const before = {
      sources: await db.source.count(),
      kbs: await db.knowledgeBase.count(),
      schedulers: await producer.queue(QueueName.maintenance).getJobSchedulersCount(),
    };
    const res = await api.send('POST', '/v1/sources', { body });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe(field);
    expect({
      sources: await db.source.count(),
      kbs: await db.knowledgeBase.count(),
      schedulers: await producer.queue(QueueName.maintenance).getJobSchedulersCount(),
    }).toEqual(before);
  });

  it('POST /v1/crawl validates include/exclude patterns the same way', async () => {
    const res = await api.send('POST', '/v1/crawl', { body: { url: 'http://a.example/', excludePaths: ['a{2,1}'] } });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe('excludePaths.0');
  });
});

describe('tasks: cancel and list', () => {
  let crawlId: string;

  it('cancelling a queued crawl turns it cancelling; again is a no-op; another tenant gets a 404', async () => {
    crawlId = (await api.send('POST', '/v1/crawl', { body: { url: 'http://cancel.example/', maxPages: 5 } })).json.taskId;
    expect((await api.send('POST', `/v1/tasks/${crawlId}/cancel`, { key: OTHER_KEY })).status).toBe(404);
    const res = await api.send('POST', `/v1/tasks/${crawlId}/cancel`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ id: crawlId, state: 'cancelling' });
    expect((await api.send('POST', `/v1/tasks/${crawlId}/cancel`)).json.state).toBe('cancelling');
    expect((await api.send('POST', '/v1/tasks/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
  });

  it('a finished task cannot be cancelled', async () => {
    await db.task.update({ where: { id: crawlId }, data: { state: 'completed', finishedAt: new Date() } });
    const res = await api.send('POST', `/v1/tasks/${crawlId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('task_finished');
  });

  it("lists the caller's tasks newest first, filtered by state, type, source and since, in bounded pages", async () => {
    const scrape = (await api.send('POST', '/v1/scrape', { body: { url: 'http://list.example/a' } })).json.taskId;
    const all = await api.send('GET', '/v1/tasks?limit=100');
    expect(all.status).toBe(200);
    const ids = all.json.tasks.map((t: { id: string }) => t.id);
    expect(ids[0]).toBe(scrape);
    expect(ids).toContain(crawlId);
    expect((await api.send('GET', '/v1/tasks?type=scrape')).json.tasks.map((t: { id: string }) => t.id)).toEqual([scrape]);
    expect((await api.send('GET', '/v1/tasks?state=completed&type=crawl')).json.tasks.map((t: { id: string }) => t.id)).toEqual([crawlId]);
    expect((await api.send('GET', `/v1/tasks?since=${new Date(Date.now() + 60_000).toISOString()}`)).json.tasks).toEqual([]);
    const page1 = await api.send('GET', '/v1/tasks?limit=1');
    expect(page1.json.tasks).toHaveLength(1);
    const page2 = await api.send('GET', `/v1/tasks?limit=1&after=${page1.json.nextCursor}`);
    expect(page2.json.tasks[0].id).toBe(ids[1]);
    expect((await api.send('GET', '/v1/tasks', { key: OTHER_KEY })).json.tasks).toEqual([]);
    expect((await api.send('GET', `/v1/tasks?after=${scrape}`, { key: OTHER_KEY })).status).toBe(400);
    expect((await api.send('GET', '/v1/tasks?limit=101')).json.error.field).toBe('limit');
    expect((await api.send('GET', '/v1/tasks?state=done')).json.error.field).toBe('state');
  });
});
