import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedis, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import {
  apiClient,
  artifactDir,
  SHARED_DATA,
  startE2eStack,
  startStaticServer,
  testRedisUrl,
  type ApiClient,
  type E2eStack,
  type StaticServer,
} from '@kbflow/testing';

// Fair scheduling across tenants with real services (issue 12 item 3): the
// api, scraper, embedder and aggregator as processes; tenant A crawls 500
// pages of the SQLite documentation, and once A's pages fill the scrape
// queue, tenant B crawls 20. B must finish within 3x the time the same
// 20-page crawl took it on the idle system, measured first in this run
// (a ratio of the same run, not a duration), and A must finish too. On a
// FIFO queue B's seed would wait behind all of A's queued pages.
//
// Each crawl has a server of its own (a host of its own, so the per-host
// politeness limits of one never hold back another), all three serving the
// same files. B's idle time is that of its twin, a tenant of the same tier
// crawling the same 20 pages: B's own first crawl would leave B's chunks in
// the embedders' per-tenant cache and make its second one cheaper.
const CORPUS = path.join(SHARED_DATA, 'docs-corpus/sqlite-3.40-html');
const ADMIN_KEY = 'fairness-admin-key-0123456789';
const A_PAGES = 500;
const B_PAGES = 20;
/** A's queued pages before B submits: well past what the workers hold at once, so B really competes. */
const A_BACKLOG = 150;
const RATIO = 3;

let e2e: E2eStack;
let redis: Redis;
let producer: JobProducer;
const sites: StaticServer[] = [];
const admin = apiClient(() => e2e.stack.apiUrl, ADMIN_KEY).call;

async function tenantClient(name: string): Promise<ApiClient> {
  // Enterprise: its concurrency share (64) is above the workers' concurrency, so only the ordering decides who runs.
  const tenant = await admin('POST', '/v1/admin/tenants', { name, tier: 'enterprise' });
  expect(tenant.status).toBe(201);
  const key = await admin('POST', `/v1/admin/tenants/${tenant.json.id}/keys`, { name: 'ci', scopes: ['read', 'write'] });
  expect(key.status).toBe(201);
  return apiClient(() => e2e.stack.apiUrl, key.json.key);
}

async function submit(client: ApiClient, site: StaticServer, maxPages: number): Promise<string> {
  const res = await client.call('POST', '/v1/crawl', { url: `${site.url}/index.html`, maxPages, maxDepth: 10, engine: 'http' });
  expect(res.status).toBe(202);
  return res.json.taskId as string;
}

/** Runs a crawl to its end; the wall time from submit to completed, polled every 100 ms. */
async function timedCrawl(client: ApiClient, site: StaticServer, maxPages: number, timeoutMs: number): Promise<{ ms: number; task: any }> {
  const started = Date.now();
  const taskId = await submit(client, site, maxPages);
  const task = await client.waitForTask(taskId, timeoutMs, { everyMs: 100 });
  return { ms: Date.now() - started, task };
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) sites.push(await startStaticServer(CORPUS));
  e2e = await startE2eStack('fairness', {
    services: ['api', 'scraper', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-fairness'),
    env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true', KBFLOW_ADMIN_API_KEY: ADMIN_KEY, KBFLOW_HOST_MAX_CONCURRENCY: '8' },
  });
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, e2e.prefix);
}, 120_000);

afterAll(async () => {
  await producer?.close();
  await redis?.quit();
  await e2e?.teardown();
  await Promise.all(sites.map((s) => s.close()));
}, 60_000);

describe('fair scheduling across tenants, end to end', () => {
  it("a 20-page crawl of tenant B finishes within 3x its idle time behind tenant A's 500-page crawl, and A's crawl completes", async () => {
    const [siteA, siteBIdle, siteBBusy] = sites as [StaticServer, StaticServer, StaticServer];
    const tenantA = await tenantClient('fair-a');
    const tenantB = await tenantClient('fair-b');
    const twinB = await tenantClient('fair-b-twin');

    const idle = await timedCrawl(twinB, siteBIdle, B_PAGES, 60_000);
    expect(idle.task.state).toBe('completed');
    expect(idle.task.progress.discovered).toBe(B_PAGES);

    const taskA = await submit(tenantA, siteA, A_PAGES);
    // Wait for A's pages to fill the scrape queue.
    const deadline = Date.now() + 60_000;
    const queuedNow = async () => (await producer.queue(QueueName.scrape).getJobCounts('prioritized')).prioritized ?? 0;
    for (let n = await queuedNow(); n < A_BACKLOG; n = await queuedNow()) {
      if (Date.now() > deadline) throw new Error(`tenant A queued only ${n} scrape jobs in 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const queued = await queuedNow();

    const busy = await timedCrawl(tenantB, siteBBusy, B_PAGES, 90_000);
    const aAtBDone = (await tenantA.call('GET', `/v1/tasks/${taskA}`)).json;
    expect(busy.task.state).toBe('completed');
    expect(busy.task.progress.discovered).toBe(B_PAGES);
    // A was still at work when B finished: B did not simply run after A.
    expect(aAtBDone.state).not.toBe('completed');
    expect(aAtBDone.progress.scraped + aAtBDone.progress.skipped + aAtBDone.progress.failed).toBeLessThan(A_PAGES);
    process.stdout.write(
      `fairness: B idle ${idle.ms} ms, B behind A's backlog ${busy.ms} ms (${(busy.ms / idle.ms).toFixed(2)}x); A had ${queued} pages queued at B's submit, ${JSON.stringify(aAtBDone.progress)} at B's end\n`,
    );
    expect(busy.ms).toBeLessThanOrEqual(RATIO * idle.ms);

    const doneA = await tenantA.waitForTask(taskA, 150_000, { everyMs: 500 });
    expect(doneA.state).toBe('completed');
    expect(doneA.progress.discovered).toBe(A_PAGES);
  }, 300_000);
});
