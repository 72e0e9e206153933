// TaskRepository.claimLinks on a real PostgreSQL: a crawl's page budget is
// exact however many scrape jobs claim at once, a link is claimed once, and
// a page asking again gets back its own claims that are still unprocessed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@kbflow/testing';
import { SEEN_ONLY } from '../src/claim-links.ts';
import { createDb, TaskRepository, TenantRepository, type Db } from '../src/index.ts';

let database: TestDatabase;
let db: Db;
let tasks: TaskRepository;
let tenantId: string;
let knowledgeBaseId: string;

const SEED = 'http://site.test/';

async function crawlTask(maxPages: number): Promise<string> {
  return tasks.createCrawlTask({
    tenantId,
    knowledgeBaseId,
    type: 'crawl',
    params: { seeds: [SEED], maxPages, maxDepth: 3, engine: 'http', origins: ['http://site.test'] } as never,
  });
}

const claim = async (taskId: string, parentUrl: string, urls: string[], maxPages: number) =>
  (await tasks.claimLinks({ taskId, tenantId, parentUrl, depth: 1, urls, maxPages })).urls;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { poolSize: 10 });
  tasks = new TaskRepository(db);
  const tenants = new TenantRepository(db);
  tenantId = await tenants.ensureTenantWithKey('claim-test', 'claim-test-key-123456');
  knowledgeBaseId = await tenants.knowledgeBaseId(tenantId, 'default');
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

describe('claimLinks', () => {
  it('claims each new link once, in the order given, and counts it as discovered', async () => {
    const taskId = await crawlTask(100);
    const first = await claim(taskId, SEED, [`${SEED}a`, `${SEED}b`, SEED], 100);
    expect(first).toEqual([`${SEED}a`, `${SEED}b`]);
    // Another page linking to a and c: only c is new.
    const second = await claim(taskId, `${SEED}a`, [`${SEED}a`, `${SEED}c`], 100);
    expect(second).toEqual([`${SEED}c`]);
    expect((await db.task.findUniqueOrThrow({ where: { id: taskId } })).discovered).toBe(4);
  });

  it("takes no lock on the task's row when every link is claimed already (a recrawl's frontier, a site's menus); a new link still waits for it", async () => {
    const taskId = await crawlTask(100);
    await claim(taskId, SEED, [`${SEED}m1`, `${SEED}m2`], 100);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM tasks WHERE id = ${taskId}::uuid FOR UPDATE`;
        locked();
        await gate;
      },
      { timeout: 60_000 },
    );
    await lockTaken;
    const outcome = (p: Promise<string[]>, waitMs: number) =>
      Promise.race([p.then((urls) => ({ done: urls })), new Promise((resolve) => setTimeout(() => resolve('still waiting for the lock'), waitMs))]);
    try {
      // The seed's redelivered job: its own claims are pending, no link is new.
      expect(await outcome(claim(taskId, SEED, [`${SEED}m1`, `${SEED}m2`, SEED], 100), 10_000)).toEqual({ done: [`${SEED}m1`, `${SEED}m2`] });
      // Another page with the same menu: nothing new, nothing of its own.
      expect(await outcome(claim(taskId, `${SEED}m1`, [`${SEED}m2`], 100), 10_000)).toEqual({ done: [] });
      // A page with a new link needs the budget, so it waits for the row.
      const needsLock = claim(taskId, `${SEED}m2`, [`${SEED}m1`, `${SEED}new`], 100);
      expect(await outcome(needsLock, 1_000)).toBe('still waiting for the lock');
      release();
      expect(await needsLock).toEqual([`${SEED}new`]);
    } finally {
      release();
      await holder;
    }
    expect((await db.task.findUniqueOrThrow({ where: { id: taskId } })).discovered).toBe(4);
  });

  it("reads a page's links one index probe each, however many pages the task has and whatever the statistics say", async () => {
    // The statistics are taken while the task has one page (a new crawl
    // after the last ANALYZE), then the task grows to 3,000 pages.
    const taskId = await crawlTask(10_000);
    await db.$executeRawUnsafe('ANALYZE task_pages');
    await db.$executeRaw`
      INSERT INTO task_pages (task_id, tenant_id, url, depth, parent_url, status, created_at, updated_at)
      SELECT ${taskId}::uuid, ${tenantId}::uuid, ${SEED} || 'grown/' || i, 1, ${SEED}, 'embedded', now(), now() FROM generate_series(1, 3000) AS i`;
    const links = Array.from({ length: 20 }, (_, i) => `${SEED}grown/${i * 100 + 1}`);
    const [row] = await db.$queryRawUnsafe<{ 'QUERY PLAN': [{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }] }[]>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${SEEN_ONLY}`,
      taskId,
      links,
      `${SEED}grown/1`,
      tenantId,
    );
    const plan = row!['QUERY PLAN'][0].Plan;
    // About four blocks a probe; comparing the links with every page of the task reads thousands.
    expect(plan['Shared Hit Blocks'] + plan['Shared Read Blocks']).toBeLessThan(20 * 10 + 50);
  });

  it('gives a page asking again its claims that are still unprocessed, and nothing it no longer owns', async () => {
    const taskId = await crawlTask(100);
    await claim(taskId, SEED, [`${SEED}x`, `${SEED}y`], 100);
    await tasks.setPageStatus(taskId, `${SEED}x`, 'scraped');
    // A redelivered job of the seed page: y is still to be enqueued, x is done.
    expect(await claim(taskId, SEED, [`${SEED}x`, `${SEED}y`], 100)).toEqual([`${SEED}y`]);
    expect((await db.task.findUniqueOrThrow({ where: { id: taskId } })).discovered).toBe(3);
  });

  it('keeps to maxPages exactly when many pages claim overlapping links at once', async () => {
    const maxPages = 25;
    const taskId = await crawlTask(maxPages);
    // 12 pages at once, each linking to 10 of 40 URLs (overlapping windows).
    const urls = Array.from({ length: 40 }, (_, i) => `${SEED}p${i}`);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, page) => claim(taskId, `${SEED}parent${page}`, urls.slice((page * 3) % 30, ((page * 3) % 30) + 10), maxPages)),
    );
    const claimed = results.flat();
    // Every claimed URL once, and the seed plus the claims fill the budget exactly.
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.length).toBe(maxPages - 1);
    const task = await db.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(task.discovered).toBe(maxPages);
    expect(await db.taskPage.count({ where: { taskId } })).toBe(maxPages);
    // With the budget spent, a new link is not claimed.
    expect(await claim(taskId, `${SEED}late`, [`${SEED}new`], maxPages)).toEqual([]);
  });

  it("when the knowledge base would pass the tenant's document quota, claims only what fits, keeps revisiting stored pages, and the run stops with reason quota", async () => {
    const tenants = new TenantRepository(db);
    const small = await tenants.createTenant({ name: 'quota-co', tier: 'starter', limits: { maxDocumentsPerKnowledgeBase: 5 } });
    const kb = await tenants.knowledgeBaseId(small.id, 'default');
    for (const path of ['old-a', 'old-b']) {
      await db.document.create({ data: { tenantId: small.id, knowledgeBaseId: kb, url: `${SEED}${path}`, title: path, markdown: path, contentHash: path } });
    }
    const taskId = await tasks.createCrawlTask({
      tenantId: small.id,
      knowledgeBaseId: kb,
      type: 'crawl',
      params: { seeds: [SEED], maxPages: 100, maxDepth: 3, engine: 'http', origins: ['http://site.test'] } as never,
    });
    // Quota 5: two stored documents and the seed (claimed, not stored yet) leave room for two new pages.
    const fresh = Array.from({ length: 6 }, (_, i) => `${SEED}new${i}`);
    const results = await Promise.all([
      tasks.claimLinks({ taskId, tenantId: small.id, parentUrl: SEED, depth: 1, urls: [`${SEED}old-a`, ...fresh.slice(0, 3)], maxPages: 100 }),
      tasks.claimLinks({ taskId, tenantId: small.id, parentUrl: `${SEED}x`, depth: 1, urls: [...fresh.slice(3), `${SEED}old-b`], maxPages: 100 }),
    ]);
    const claimed = results.flatMap((r) => r.urls);
    expect(claimed).toEqual(expect.arrayContaining([`${SEED}old-a`, `${SEED}old-b`]));
    expect(claimed.filter((url) => url.includes('/new')).length).toBe(2);
    const task = await db.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(task.quotaReached).toBe(true);
    expect(task.maxPagesReached).toBe(false);
    expect(await tasks.incompleteReason(taskId)).toBe('quota');
    // The crawl ends: its report says why it stopped.
    for (const page of await db.taskPage.findMany({ where: { taskId } }))
      await db.taskPage.update({ where: { id: page.id }, data: { status: 'embedded', change: 'new' } });
    const { report } = await tasks.finish(taskId);
    expect(report.stopReason).toBe('quota');
    // Another tenant's crawl is not held by quota-co's quota.
    const unlimited = await crawlTask(100);
    expect(await claim(unlimited, SEED, fresh, 100)).toEqual(fresh);
  });

  it("counts only the crawl's pages not yet stored against the quota, not every page it claimed", async () => {
    const tenants = new TenantRepository(db);
    const small = await tenants.createTenant({ name: 'quota-stored-co', tier: 'starter', limits: { maxDocumentsPerKnowledgeBase: 5 } });
    const kb = await tenants.knowledgeBaseId(small.id, 'default');
    const taskId = await tasks.createCrawlTask({
      tenantId: small.id,
      knowledgeBaseId: kb,
      type: 'crawl',
      params: { seeds: [SEED], maxPages: 100, maxDepth: 3, engine: 'http', origins: ['http://site.test'] } as never,
    });
    // The crawl claimed a and b and has stored both: 3 pages claimed, 2 documents, only the seed still pending.
    const stored = [`${SEED}a`, `${SEED}b`];
    expect((await tasks.claimLinks({ taskId, tenantId: small.id, parentUrl: SEED, depth: 1, urls: stored, maxPages: 100 })).urls).toEqual(stored);
    for (const url of stored) {
      await db.document.create({ data: { tenantId: small.id, knowledgeBaseId: kb, url, title: url, markdown: url, contentHash: url } });
      await db.taskPage.update({ where: { taskId_url: { taskId, url } }, data: { status: 'embedded', change: 'new' } });
    }
    // Quota 5 less 2 documents less 1 pending page leaves room for two new ones (not 5 - 2 - 3 claimed = 0).
    const fresh = [`${SEED}c`, `${SEED}d`, `${SEED}e`];
    const { urls } = await tasks.claimLinks({ taskId, tenantId: small.id, parentUrl: `${SEED}a`, depth: 2, urls: fresh, maxPages: 100 });
    expect(urls).toEqual([`${SEED}c`, `${SEED}d`]);
    expect((await db.task.findUniqueOrThrow({ where: { id: taskId } })).quotaReached).toBe(true);
  });

  it("records the page's status in the same round trip only when it leaves the page nothing to queue", async () => {
    const taskId = await crawlTask(100);
    await claim(taskId, SEED, [`${SEED}s1`, `${SEED}s2`], 100);
    const settle = { status: 'skipped', extra: { change: 'not-modified', httpStatus: 304, bytes: 0 } } as const;
    const pageOf = (url: string) => db.taskPage.findUniqueOrThrow({ where: { taskId_url: { taskId, url } } });
    const settleClaim = (parentUrl: string, urls: string[]) => tasks.claimLinks({ taskId, tenantId, parentUrl, depth: 1, urls, maxPages: 100, settle });
    // s1 links only to pages claimed already and claimed none itself: settled with its claim.
    expect(await settleClaim(`${SEED}s1`, [SEED, `${SEED}s2`])).toEqual({ urls: [], settled: true });
    expect(await pageOf(`${SEED}s1`)).toMatchObject({ status: 'skipped', change: 'not-modified', httpStatus: 304, bytes: 0 });
    // The seed's own claims are still pending (a redelivered job): they are to be queued first, so the seed stays as it was.
    expect(await settleClaim(SEED, [`${SEED}s1`, `${SEED}s2`])).toEqual({ urls: [`${SEED}s2`], settled: false });
    // s2 has a new link: claimed, queued by the caller, not settled.
    expect(await settleClaim(`${SEED}s2`, [`${SEED}s3`])).toEqual({ urls: [`${SEED}s3`], settled: false });
    expect(await pageOf(`${SEED}s2`)).toMatchObject({ status: 'discovered', change: null });
  });

  it('returns nothing for a task that does not exist', async () => {
    expect(await claim('00000000-0000-4000-8000-000000000000', SEED, [`${SEED}a`], 10)).toEqual([]);
  });
});
