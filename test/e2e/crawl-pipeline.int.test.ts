import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { artifactDir, SHARED_DATA, startE2eStack, startStaticServer, type Stack, type StaticServer, type E2eStack, apiClient } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { reachablePages } from './reachable-pages.ts';

// The walking skeleton end to end: the five services as real processes, the
// Python documentation served on 127.0.0.1, a crawl submitted over HTTP.
const CORPUS = path.join(SHARED_DATA, 'docs-corpus/python-3.11-html');
const KEY = 'e2e-dev-key';
const MAX_DEPTH = 5;

const JS_PAGE = `<!doctype html><html><head><title>Rendered by script</title></head><body>
<div id="root"></div>
<script>
  document.title = 'Rendered by script';
  document.getElementById('root').innerHTML = '<main><h1>Client rendered</h1>' +
    '<p>The quartermaster keeps the xylophone in the lighthouse. This paragraph exists only after JavaScript runs, ' +
    'which is why the HTTP engine cannot see it while the browser engine can.</p></main>';
</script>
</body></html>`;

let e2e: E2eStack;
let db: Db;
let site: StaticServer;
let stack: Stack;
let lanceDir: string;

const client = apiClient(() => stack.apiUrl, KEY);
const api = client.call;

const waitForTask = (taskId: string, timeoutMs: number) => client.waitForTask(taskId, timeoutMs, { everyMs: 500 });

beforeAll(async () => {
  site = await startStaticServer(CORPUS, { '/js-rendered.html': JS_PAGE });
  e2e = await startE2eStack('e2e', {
    logDir: artifactDir('e2e-crawl'),
    env: {
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'e2e-admin-key',
      // The answers' sources are under test, not the keyword budget: on a
      // loaded machine the first, cold question can run past it (the budget
      // has tests of its own: packages/db/test/keyword-search.int.test.ts).
      KBFLOW_KEYWORD_BUDGET_MS: '0',
    },
  });
  ({ stack, lanceDir } = e2e);
  db = createDb(e2e.database.url);
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await e2e?.teardown();
  await site?.close();
}, 60_000);

describe('crawl → store → embed → answer, across the five service processes', () => {
  let taskId: string;
  let task: any;

  it('a crawl of the Python docs reaches completed', async () => {
    const res = await api('POST', '/v1/crawl', { url: `${site.url}/index.html`, maxPages: 1000, maxDepth: MAX_DEPTH });
    expect(res.status).toBe(202);
    taskId = res.json.taskId;
    task = await waitForTask(taskId, 600_000);
    expect(task.state).toBe('completed');
    expect(task.finishedAt).toBeDefined();
  }, 620_000);

  it('stores every reachable page exactly once, and fetches each once', async () => {
    const expected = reachablePages(CORPUS, site.url, `${site.url}/index.html`, MAX_DEPTH);
    expect(expected.pages.size).toBeGreaterThanOrEqual(150);

    const docs = await db.document.findMany({ select: { url: true } });
    const stored = docs.map((d) => d.url);
    expect(new Set(stored).size).toBe(stored.length);
    expect(new Set(stored)).toEqual(expected.pages);

    expect(task.progress.discovered).toBe(expected.pages.size + expected.missing.size + expected.notHtml.size);
    expect(task.progress.embedded).toBe(expected.pages.size);
    expect(task.progress.failed).toBe(expected.missing.size);
    expect(task.progress.skipped).toBe(expected.notHtml.size);

    // The HTTP engine fetches each page once, unless its job was retried (a
    // transient failure, e.g. a timeout on a loaded machine): every extra
    // fetch must be explained by a retried scrape job. In auto mode a page
    // that looks rendered by JavaScript (the docs' search page) is fetched
    // again by Chromium, with its scripts; nothing else goes through the
    // browser.
    // Pages only: robots.txt and /sitemap.xml are the site's files, read per host and crawl.
    const siteFiles = new Set(['/robots.txt', '/sitemap.xml']);
    const viaHttp = site.log.filter((r) => !r.fromBrowser && r.path !== '/js-rendered.html' && !siteFiles.has(r.path)).map((r) => r.path);
    const metrics = await (await fetch(`http://127.0.0.1:${stack.services.get('scraper')!.port}/metrics`)).text();
    const retried = metrics
      .split('\n')
      .filter((l) => l.startsWith('kbflow_jobs_total{') && l.includes('queue="scrape"') && l.includes('outcome="retried"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(viaHttp.length - new Set(viaHttp).size).toBeLessThanOrEqual(retried);
    const browserPages = new Set(site.log.filter((r) => r.fromBrowser && r.path.endsWith('.html')).map((r) => r.path));
    expect([...browserPages].filter((p) => p !== '/js-rendered.html')).toEqual(['/search.html']);
  }, 180_000);

  it('embeds every chunk and has exactly those vectors in the vector store', async () => {
    const chunks = await db.chunk.findMany({ select: { id: true, indexed: true, tenantId: true } });
    expect(chunks.length).toBeGreaterThan(1000);
    expect(chunks.every((c) => c.indexed)).toBe(true);
    const store = new LanceDbVectorStore({ dir: lanceDir, table: 'kbflow_chunks' });
    try {
      const ids = await store.listIds({ tenantId: chunks[0]!.tenantId });
      expect(ids.length).toBe(chunks.length);
      expect(new Set(ids)).toEqual(new Set(chunks.map((c) => c.id)));
    } finally {
      await store.close();
    }
  });

  // Questions whose answer sits on one known page. This checks that the whole
  // path returns the right page; retrieval quality at large belongs to an
  // evaluation over a question set, not to this test.
  it.each([
    ['How do I read and write files with open()?', '/tutorial/inputoutput.html'],
    ['How do I create a virtual environment?', '/tutorial/venv.html'],
  ])('the question "%s" cites %s among the top 3', async (question, page) => {
    const res = await api('POST', '/v1/query', { query: question, topK: 3 });
    expect(res.status).toBe(200);
    const urls = res.json.citations.map((c: { url: string }) => c.url);
    expect(urls).toContain(`${site.url}${page}`);
    expect(res.json.answer.length).toBeGreaterThan(40);
    expect(res.json.answer).toMatch(/\[\d\]/);
    expect(res.json.timings).toEqual(expect.objectContaining({ queueWaitMs: expect.any(Number), retrieveMs: expect.any(Number), totalMs: expect.any(Number) }));
  });

  it('search returns ranked passages without an answer', async () => {
    const res = await api('POST', '/v1/search', { query: 'list comprehension', topK: 5 });
    expect(res.status).toBe(200);
    expect(res.json.results).toHaveLength(5);
    expect(res.json.results[0].score).toBeGreaterThanOrEqual(res.json.results[4].score);
    expect(res.json.answer).toBeUndefined();
  });

  it('a re-crawl skips every unchanged page and embeds nothing new', async () => {
    const before = await db.chunk.count();
    const res = await api('POST', '/v1/crawl', { url: `${site.url}/index.html`, maxPages: 1000, maxDepth: MAX_DEPTH });
    const again = await waitForTask(res.json.taskId, 600_000);
    expect(again.state).toBe('completed');
    expect(again.progress.skipped).toBe(task.progress.embedded + task.progress.skipped);
    expect(again.progress.embedded).toBe(0);
    expect(await db.chunk.count()).toBe(before);
  }, 620_000);

  it('/v1/embed returns one vector per text from the embedder service', async () => {
    const res = await api('POST', '/v1/embed', { texts: ['first text', 'second text'] });
    expect(res.status).toBe(200);
    expect(res.json.embeddings).toHaveLength(2);
    expect(res.json.embeddings[0]).toHaveLength(res.json.dimensions);
    expect(res.json.model).toBe('local-hashing-ngram-v1');
  });
});

describe('engines', () => {
  it('a page rendered by JavaScript is extracted by the browser engine and not by the HTTP engine', async () => {
    const url = `${site.url}/js-rendered.html`;
    const viaHttp = await api('POST', '/v1/scrape', { url, engine: 'http', knowledgeBase: 'engine-http' });
    const viaBrowser = await api('POST', '/v1/scrape', { url, engine: 'browser', knowledgeBase: 'engine-browser' });
    expect((await waitForTask(viaHttp.json.taskId, 60_000)).state).toBe('completed');
    expect((await waitForTask(viaBrowser.json.taskId, 90_000)).state).toBe('completed');
    const docs = await db.document.findMany({ where: { url }, include: { knowledgeBase: true } });
    const bySlug = Object.fromEntries(docs.map((d) => [d.knowledgeBase.slug, d.markdown]));
    expect(bySlug['engine-http']).toBeDefined();
    expect(bySlug['engine-http']).not.toContain('xylophone');
    expect(bySlug['engine-browser']).toContain('xylophone');
  }, 120_000);
});
