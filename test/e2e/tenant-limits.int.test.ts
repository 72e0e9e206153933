import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { apiClient, artifactDir, startE2eStack, startStaticServer, type E2eStack, type StaticServer } from '@kbflow/testing';

// A tenant's tier limits in the real pipeline (issue 12 item 2): the
// services as processes, a tenant created through the admin API with a
// document quota of 5 and one job at a time. Scrape jobs get ONE attempt:
// a page that spent an attempt waiting for the tenant's slot would fail, so
// a crawl with no failed page proves the waits cost none.
const ADMIN_KEY = 'limits-admin-key-0123456789';
const QUOTA = 5;
const PAGES = 12;

const html = (title: string, links: string[] = []) =>
  `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1>
<p>${title} is a page of a test site with enough words about ${title.toLowerCase()} for one chunk of text.</p>
<ul>${links.map((l) => `<li><a href="${l}">${l}</a></li>`).join('')}</ul></main></body></html>`;

let e2e: E2eStack;
let site: StaticServer;
let db: Db;
const admin = apiClient(() => e2e.stack.apiUrl, ADMIN_KEY).call;

beforeAll(async () => {
  const pages: Record<string, string> = {
    '/index.html': html(
      'Home',
      Array.from({ length: PAGES }, (_, i) => `/p${i}.html`),
    ),
  };
  for (let i = 0; i < PAGES; i++) pages[`/p${i}.html`] = html(`Page ${i}`);
  site = await startStaticServer('/nonexistent', pages);
  e2e = await startE2eStack('limits', {
    services: ['api', 'scraper', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-tenant-limits'),
    env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true', KBFLOW_ADMIN_API_KEY: ADMIN_KEY, KBFLOW_JOB_ATTEMPTS: 'scrape=1', KBFLOW_WORKER_CONCURRENCY: '4' },
  });
  db = createDb(e2e.env.DATABASE_URL!);
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await e2e?.teardown();
  await site?.close();
});

describe('tier limits end to end', () => {
  it('a crawl past the knowledge base quota stops with reason quota, stores no more than the quota, and its jobs wait for the tenant slot without failing', async () => {
    const tenant = await admin('POST', '/v1/admin/tenants', {
      name: 'small-co',
      tier: 'starter',
      limits: { maxDocumentsPerKnowledgeBase: QUOTA, maxConcurrentProcessing: 1 },
    });
    expect(tenant.status).toBe(201);
    const key = await admin('POST', `/v1/admin/tenants/${tenant.json.id}/keys`, { name: 'ci', scopes: ['read', 'write'] });
    expect(key.status).toBe(201);
    const client = apiClient(() => e2e.stack.apiUrl, key.json.key);

    const res = await client.call('POST', '/v1/crawl', { url: `${site.url}/index.html`, maxPages: 50, maxDepth: 2 });
    expect(res.status).toBe(202);
    const task = await client.waitForTask(res.json.taskId, 60_000);
    expect(task.state).toBe('completed');
    expect(task.report).toMatchObject({ stopReason: 'quota', failed: 0 });
    expect(task.progress).toMatchObject({ discovered: QUOTA, embedded: QUOTA, failed: 0 });
    expect(await db.document.count({ where: { tenantId: tenant.json.id } })).toBe(QUOTA);
    // Fewer pages were fetched than the site has: discovery stopped, not just storing.
    expect(site.log.filter((r) => r.path.endsWith('.html')).length).toBe(QUOTA);

    // The scrapers deferred the tenant's jobs for its slot (one at a time, four workers).
    const text = await (await fetch(`http://127.0.0.1:${e2e.stack.services.get('scraper')!.port}/metrics`)).text();
    const deferred = text.split('\n').filter((l) => l.startsWith('kbflow_jobs_deferred_total{') && l.includes('reason="tenant-limit"'));
    expect(deferred.reduce((n, l) => n + Number(l.split(' ').pop()), 0)).toBeGreaterThan(0);
  }, 90_000);
});
