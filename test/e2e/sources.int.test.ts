// Sources end to end (kbflow issue 11, items 1, 2 and 6): the five services as
// real processes and a local site the test serves and edits between runs.
// - run reports: a second run of an unchanged site is all unchanged; an
//   edited page counts as changed, a new one as new; include patterns hold;
// - a purge removes the source's documents and chunks;
// - cancelling a 600-page crawl mid-way ends it cancelled with nothing queued;
// - a source's schedule fires again after the maintenance service restarts,
//   and its runs never overlap.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { createRedis, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import { apiClient, artifactDir, startE2eStack, startService, type E2eStack } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';

const KEY = 'sources-e2e-key';
const BIG_PAGES = 600;
const LOG_DIR = artifactDir('e2e-sources');

/** A site whose pages the test edits; every request is logged, `/big/` pages answer slowly. */
interface Site {
  url: string;
  pages: Map<string, string>;
  requests: string[];
  close: () => Promise<void>;
}

const page = (title: string, body: string, links: string[] = []) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1><p>${body}</p>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</main></body></html>`;

async function startSite(): Promise<Site> {
  const pages = new Map<string, string>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    requests.push(path);
    const html = pages.get(path);
    // Slow enough that a 600-page crawl is still under way when it is cancelled.
    const delay = path.startsWith('/big/') ? 150 : 0;
    setTimeout(() => {
      if (html === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, pages, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let site: Site;
let e2e: E2eStack;
let db: Db;
let redis: Redis;
let producer: JobProducer;
const client = apiClient(() => e2e.stack.apiUrl, KEY);
const api = client.call;

beforeAll(async () => {
  site = await startSite();
  const small = (p: string) => `/small/${p}`;
  site.pages.set(small('index.html'), page('Lighthouse handbook', 'The keeper climbs the stairs at dusk.', ['a.html', 'b.html', 'c.html', '/outside/x.html']));
  site.pages.set(small('a.html'), page('Lamp', 'The lamp burns paraffin through the night.'));
  site.pages.set(small('b.html'), page('Fog horn', 'The fog horn sounds twice a minute in fog.'));
  site.pages.set(small('c.html'), page('Logbook', 'Every ship that passes is written in the logbook.'));
  site.pages.set('/outside/x.html', page('Outside', 'Not part of the source.'));
  site.pages.set(
    '/big/index.html',
    page(
      'Big',
      'Many pages.',
      Array.from({ length: BIG_PAGES }, (_, i) => `p${i}.html`),
    ),
  );
  for (let i = 0; i < BIG_PAGES; i++)
    site.pages.set(`/big/p${i}.html`, page(`Page ${i}`, `Page number ${i} of the big site, with a sentence of its own: ${i * 7919}.`));
  e2e = await startE2eStack('sources', {
    logDir: LOG_DIR,
    env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true', KBFLOW_DEV_API_KEY: KEY, KBFLOW_SOURCE_MIN_INTERVAL_MS: '1000' },
  });
  db = createDb(e2e.database.url);
  redis = createRedis(e2e.env.REDIS_URL!);
  producer = new JobProducer(redis, e2e.prefix);
}, 120_000);

afterAll(async () => {
  await producer?.close();
  await redis?.quit();
  await db?.$disconnect();
  await e2e?.teardown();
  await site?.close();
}, 60_000);

const runNow = async (sourceId: string) => {
  const res = await api('POST', `/v1/sources/${sourceId}/runs`);
  expect(res.status).toBe(202);
  return client.waitForTask(res.json.taskId, 60_000);
};

describe("a source's runs report what changed", () => {
  let sourceId: string;

  it('the first run stores every page in scope as new', async () => {
    const res = await api('POST', '/v1/sources', {
      type: 'site',
      url: `${site.url}/small/index.html`,
      knowledgeBase: 'handbook',
      // Never fires during the test: these runs are started by hand.
      schedule: { cron: '0 0 1 1 *' },
      includePaths: ['^/small/'],
      maxDepth: 2,
    });
    expect(res.status).toBe(201);
    sourceId = res.json.id;
    const task = await runNow(sourceId);
    expect(task.state).toBe('completed');
    expect(task.sourceId).toBe(sourceId);
    expect(task.report).toMatchObject({ new: 4, changed: 0, unchanged: 0, deleted: 0, failed: 0, stopReason: 'done' });
    const served = ['index', 'a', 'b', 'c'].reduce((n, p) => n + Buffer.byteLength(site.pages.get(`/small/${p}.html`)!), 0);
    expect(task.report.bytesFetched).toBe(served);
    // includePaths kept the crawl off /outside/.
    expect(site.requests).not.toContain('/outside/x.html');
  }, 90_000);

  it('a second run of the unchanged site reports every page unchanged', async () => {
    const task = await runNow(sourceId);
    expect(task.report).toMatchObject({ new: 0, changed: 0, unchanged: 4, deleted: 0, failed: 0, stopReason: 'done' });
  }, 90_000);

  it('after an edit and a new page: the edited pages are changed, the new one new, the rest unchanged', async () => {
    site.pages.set('/small/b.html', page('Fog horn', 'The fog horn now sounds three times a minute in fog.'));
    site.pages.set('/small/c.html', page('Logbook', 'Every ship that passes is written in the logbook.', ['d.html']));
    site.pages.set('/small/d.html', page('Weather', 'The barometer is read every four hours.'));
    const task = await runNow(sourceId);
    expect(task.report).toMatchObject({ new: 1, changed: 2, unchanged: 2, failed: 0, stopReason: 'done' });

    const history = await api('GET', `/v1/sources/${sourceId}/runs`);
    expect(
      history.json.runs.map((r: { report: { new: number; changed: number; unchanged: number } }) => [r.report.new, r.report.changed, r.report.unchanged]),
    ).toEqual([
      [1, 2, 2],
      [0, 0, 4],
      [4, 0, 0],
    ]);
    expect(history.json.runs.every((r: { trigger: string; state: string }) => r.trigger === 'manual' && r.state === 'completed')).toBe(true);
    const listed = await api('GET', '/v1/sources');
    expect(listed.json.sources[0]).toMatchObject({ id: sourceId, lastRun: { taskId: task.id, state: 'completed' } });
    expect(Date.parse(listed.json.sources[0].nextRunAt)).toBeGreaterThan(Date.now());
    expect((await api('GET', `/v1/tasks?source=${sourceId}`)).json.tasks).toHaveLength(3);
  }, 90_000);

  it("a purge removes the source's documents, their chunks and their vectors, as a task", async () => {
    const kb = await db.knowledgeBase.findFirstOrThrow({ where: { slug: 'handbook' } });
    expect(await db.document.count({ where: { knowledgeBaseId: kb.id } })).toBe(5);
    const store = new LanceDbVectorStore({ dir: e2e.lanceDir, table: 'kbflow_chunks' });
    const vectors = () => store.count({ tenantId: kb.tenantId, knowledgeBaseId: kb.id });
    expect(await vectors()).toBe(await db.chunk.count({ where: { document: { knowledgeBaseId: kb.id } } }));
    expect(await vectors()).toBeGreaterThan(0);
    const res = await api('DELETE', `/v1/sources/${sourceId}?purge=true`);
    expect(res.status).toBe(202);
    const task = await client.waitForTask(res.json.taskId, 60_000);
    expect(task).toMatchObject({ type: 'purge', state: 'completed', result: { documents: 5 } });
    expect(await db.document.count({ where: { knowledgeBaseId: kb.id } })).toBe(0);
    expect(await db.chunk.count({ where: { document: { knowledgeBaseId: kb.id } } })).toBe(0);
    expect((await api('GET', `/v1/sources/${sourceId}`)).status).toBe(404);
    try {
      // The vectors go through delete-vectors jobs, after the task: wait for them.
      const deadline = Date.now() + 30_000;
      while ((await vectors()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(await vectors()).toBe(0);
    } finally {
      await store.close();
    }
  }, 90_000);
});

describe('cancelling a crawl', () => {
  it(`a ${BIG_PAGES}-page crawl cancelled mid-way ends cancelled with its counts, and nothing of it stays queued`, async () => {
    const res = await api('POST', '/v1/crawl', { url: `${site.url}/big/index.html`, maxPages: 1000, maxDepth: 1, knowledgeBase: 'big' });
    expect(res.status).toBe(202);
    const taskId = res.json.taskId;
    const fetched = () => site.requests.filter((p) => p.startsWith('/big/p')).length;
    const deadline = Date.now() + 60_000;
    while (fetched() < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fetched()).toBeGreaterThanOrEqual(20);

    const cancel = await api('POST', `/v1/tasks/${taskId}/cancel`);
    expect(cancel.status).toBe(202);
    expect(cancel.json.state).toBe('cancelling');
    const task = await client.waitForTask(taskId, 30_000);
    expect(task.state).toBe('cancelled');
    expect(task.report.stopReason).toBe('cancelled');
    expect(task.progress.discovered).toBe(BIG_PAGES + 1);
    expect(task.progress.cancelled).toBeGreaterThan(BIG_PAGES / 2);
    expect(task.progress.cancelled + task.progress.embedded + task.progress.skipped + task.progress.failed).toBe(BIG_PAGES + 1);

    const counts = await producer.queue(QueueName.scrape).getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'waiting-children');
    expect(counts).toEqual({ waiting: 0, prioritized: 0, delayed: 0, active: 0, 'waiting-children': 0 });
    // Nothing fetched after the end: the dropped pages were never requested.
    const after = fetched();
    await new Promise((r) => setTimeout(r, 1000));
    expect(fetched()).toBe(after);
    expect(after).toBeLessThan(BIG_PAGES);
  }, 120_000);
});

describe('schedules live in the system', () => {
  it("a source's schedule fires again after the maintenance service restarts, and its runs never overlap", async () => {
    const res = await api('POST', '/v1/sources', {
      type: 'site',
      url: `${site.url}/small/a.html`,
      knowledgeBase: 'scheduled',
      schedule: { every: '2s' },
      maxDepth: 0,
    });
    expect(res.status).toBe(201);
    const sourceId = res.json.id;
    const runs = async () =>
      (await api('GET', `/v1/sources/${sourceId}/runs?limit=100`)).json.runs as {
        taskId: string;
        state: string;
        trigger: string;
        createdAt: string;
        finishedAt?: string;
      }[];
    const waitFor = async (ok: (r: Awaited<ReturnType<typeof runs>>) => boolean) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await runs();
        if (ok(r)) return r;
        if (Date.now() > deadline) throw new Error(`runs: ${JSON.stringify(r)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    await waitFor((r) => r.some((run) => run.state === 'completed'));

    const maintenance = e2e.stack.services.get('maintenance')!;
    await maintenance.stop();
    const restartedAt = new Date().toISOString();
    e2e.stack.services.set('maintenance', await startService('maintenance', e2e.env, { logDir: LOG_DIR, instance: 2 }));
    const all = await waitFor((r) => r.some((run) => run.createdAt > restartedAt && run.state === 'completed'));
    expect(all.every((run) => run.trigger === 'schedule')).toBe(true);
    // Oldest first: each run started after the one before it had finished (a firing during a run is skipped).
    const ordered = [...all].reverse();
    for (let i = 1; i < ordered.length; i++) expect(ordered[i]!.createdAt >= (ordered[i - 1]!.finishedAt ?? '9999')).toBe(true);
    expect((await api('DELETE', `/v1/sources/${sourceId}`)).status).toBe(204);
  }, 120_000);
});
