// Recrawls and deletions end to end (docs/recrawls.md): the api, scraper,
// embedder and aggregator as real processes, a small site on 127.0.0.1
// (@kbflow/testing's static server: ETag / Last-Modified, 304s, a request
// log) that changes between crawls. An unchanged recrawl downloads no page
// body and embeds nothing; one edited paragraph re-embeds only that page's
// changed chunk; a page that now answers 404 and a page no longer linked
// (deleteUnreached) disappear from documents, chunks, vectors and search.
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { apiClient, artifactDir, startE2eStack, startStaticServer, type E2eStack, type StaticServer } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';

const KEY = 'recrawl-dev-key';
const KB = 'fresh';

const html = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;
const paragraph = (topic: string) => `<p>${`The ${topic} is described here in enough words to make a passage of its own for the chunker. `.repeat(9)}</p>`;
const sections = (topics: string[]) => topics.map((t) => `<h2>About the ${t}</h2>${paragraph(t)}`).join('');

const PAGES: Record<string, string> = {
  'index.html': html(
    'Harbour handbook',
    `${paragraph('harbour')}<a href="/moorings.html">Moorings</a> <a href="/tides.html">Tides</a> <a href="/old-ferry.html">Old ferry</a>`,
  ),
  'moorings.html': html('Moorings', `${paragraph('mooring buoy')}<a href="/index.html">Home</a>`),
  'tides.html': html('Tides', sections(['spring tide', 'neap tide', 'tidal stream', 'slack water'])),
  // Only the old ferry page links to the lighthouse page: once the ferry page is gone, the lighthouse is unreached.
  'old-ferry.html': html('Old ferry', `${paragraph('zanzibarite ferry')}<a href="/lighthouse.html">Lighthouse</a>`),
  'lighthouse.html': html('Lighthouse', paragraph('quokkamancer lighthouse')),
};

let dir: string;
let site: StaticServer;
let e2e: E2eStack;
let db: Db;
const client = apiClient(() => e2e.stack.apiUrl, KEY);

const crawl = async () => {
  const res = await client.call('POST', '/v1/crawl', {
    url: `${site.url}/index.html`,
    maxPages: 50,
    maxDepth: 4,
    engine: 'http',
    knowledgeBase: KB,
    deleteUnreached: true,
  });
  expect(res.status).toBe(202);
  return client.waitForTask(res.json.taskId, 60_000);
};
const chunkRows = async () =>
  (await db.chunk.findMany({ select: { id: true, indexed: { select: { indexedAt: true } }, tenantId: true, document: { select: { url: true } } } })).map(
    (c) => ({
      id: c.id,
      indexedAt: c.indexed?.indexedAt.toISOString(),
      url: c.document.url,
    }),
  );
const embeddedTexts = async () => {
  const metrics = await (await fetch(`http://127.0.0.1:${e2e.stack.services.get('embedder')!.port}/metrics`)).text();
  return metrics
    .split('\n')
    .filter((l) => l.startsWith('kbflow_embedding_texts_total'))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
};
const vectorIds = async (tenantId: string) => {
  const store = new LanceDbVectorStore({ dir: e2e.lanceDir, table: 'kbflow_chunks' });
  try {
    return new Set(await store.listIds({ tenantId }));
  } finally {
    await store.close();
  }
};
const searchUrls = async (query: string) => {
  const res = await client.call('POST', '/v1/search', { query, topK: 10, knowledgeBase: KB, mode: 'keyword' });
  expect(res.status).toBe(200);
  return res.json.results.map((r: { url: string }) => r.url);
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kbflow-recrawl-site-'));
  for (const [name, body] of Object.entries(PAGES)) await writeFile(path.join(dir, name), body);
  site = await startStaticServer(dir);
  e2e = await startE2eStack('recrawl', {
    services: ['api', 'scraper', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-recrawl'),
    env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true', KBFLOW_DEV_API_KEY: KEY, KBFLOW_ADMIN_API_KEY: 'recrawl-admin-key', KBFLOW_KEYWORD_BUDGET_MS: '0' },
  });
  db = createDb(e2e.database.url);
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await e2e?.teardown();
  await site?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('recrawls and deletions', () => {
  let first: ReturnType<typeof chunkRows> extends Promise<infer T> ? T : never;
  let tenantId: string;

  it('a first crawl stores every page, with its validators', async () => {
    const task = await crawl();
    expect(task.state).toBe('completed');
    expect(task.progress).toEqual(expect.objectContaining({ discovered: 5, embedded: 5, notModified: 0, deletedGone: 0, deletedUnreached: 0 }));
    const docs = await db.document.findMany({ select: { url: true, etag: true, tenantId: true } });
    expect(docs).toHaveLength(5);
    expect(docs.every((d) => d.etag !== null)).toBe(true);
    tenantId = docs[0]!.tenantId;
    first = await chunkRows();
    expect(first.filter((c) => c.url.endsWith('/tides.html')).length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('an unchanged recrawl fetches no page body (every request a 304) and embeds no chunk', async () => {
    const logFrom = site.log.length;
    const textsBefore = await embeddedTexts();
    const task = await crawl();
    expect(task.state).toBe('completed');
    expect(task.progress).toEqual(expect.objectContaining({ discovered: 5, skipped: 5, notModified: 5, unchangedByHash: 0, embedded: 0 }));
    // Each page asked once (a scrape job retried on a loaded machine would ask again, conditionally too).
    // Page requests: the seed also looks for /sitemap.xml (robots.txt is cached from the first crawl).
    const requests = site.log.slice(logFrom).filter((r) => r.path !== '/sitemap.xml' && r.path !== '/robots.txt');
    expect(new Set(requests.map((r) => r.path))).toEqual(new Set(Object.keys(PAGES).map((p) => `/${p}`)));
    expect(requests.filter((r) => !(r.conditional && r.status === 304 && r.bytes === 0))).toEqual([]);
    expect(await embeddedTexts()).toBe(textsBefore);
    expect(await chunkRows()).toEqual(first);
  }, 90_000);

  it('after an edit, a removal and an unlinking: only the changed chunk is embedded, the gone and the unreached pages disappear everywhere', async () => {
    expect(await searchUrls('zanzibarite')).toContain(`${site.url}/old-ferry.html`);
    expect(await searchUrls('quokkamancer')).toContain(`${site.url}/lighthouse.html`);
    await writeFile(path.join(dir, 'tides.html'), html('Tides', sections(['spring tide', 'neap tide', 'edited tidal stream', 'slack water'])));
    await unlink(path.join(dir, 'old-ferry.html'));
    const textsBefore = await embeddedTexts();

    const task = await crawl();
    expect(task.state).toBe('completed');
    expect(task.progress).toEqual(expect.objectContaining({ discovered: 4, notModified: 2, embedded: 1, deletedGone: 1, deletedUnreached: 1 }));

    const now = await chunkRows();
    const before = new Map(first.map((c) => [c.id, c]));
    const fresh = now.filter((c) => !before.has(c.id));
    // The tides page's other sections keep their rows, vectors and indexing time.
    expect(fresh.length).toBeGreaterThanOrEqual(1);
    expect(fresh.every((c) => c.url.endsWith('/tides.html'))).toBe(true);
    const tidesNow = now.filter((c) => c.url.endsWith('/tides.html'));
    expect(tidesNow.length - fresh.length).toBeGreaterThanOrEqual(2);
    for (const kept of now.filter((c) => before.has(c.id))) expect(kept).toEqual(before.get(kept.id));
    expect(await embeddedTexts()).toBe(textsBefore + fresh.length);

    const urls = (await db.document.findMany({ select: { url: true } })).map((d) => d.url).sort();
    expect(urls).toEqual(['index.html', 'moorings.html', 'tides.html'].map((p) => `${site.url}/${p}`));
    expect(now.some((c) => c.url.endsWith('/old-ferry.html') || c.url.endsWith('/lighthouse.html'))).toBe(false);

    // The gone page's vectors go through the embedder's delete-vectors job: wait for it.
    const deadline = Date.now() + 30_000;
    let vectors = await vectorIds(tenantId);
    while (vectors.size !== now.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      vectors = await vectorIds(tenantId);
    }
    expect(vectors).toEqual(new Set(now.map((c) => c.id)));

    expect(await searchUrls('zanzibarite')).not.toContain(`${site.url}/old-ferry.html`);
    expect(await searchUrls('quokkamancer')).not.toContain(`${site.url}/lighthouse.html`);
    const answer = await client.call('POST', '/v1/query', { query: 'Where is the quokkamancer lighthouse?', topK: 5, knowledgeBase: KB });
    expect(answer.status).toBe(200);
    expect(answer.json.citations.map((c: { url: string }) => c.url)).not.toContain(`${site.url}/lighthouse.html`);
  }, 120_000);
});
