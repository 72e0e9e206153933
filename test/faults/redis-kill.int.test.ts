import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { artifactDir } from '@kbflow/testing';
import { assertNothingLost, LOST_WORK_ERRORS, vectorIds } from './support/assert-nothing-lost.ts';
import { FaultStack, sleep, WORKERS, type CrawlRequest, type PageCounts, type TaskJson, type Tenant } from './support/fault-stack.ts';
import { QueueWatch } from './support/queue-watch.ts';
import { TestRedisServer } from './support/redis-server.ts';
import { assertTenantsApart } from './support/tenants-apart.ts';

// Redis killed with SIGKILL (no shutdown, no last AOF flush) in the middle
// of two tenants' crawls, running with `appendfsync everysec` as compose
// and k8s do (issue 14, fault tests), and its AOF then cut back by the last
// second of writes: what that setting loses when the machine dies with the
// process (a process's death alone loses nothing Redis had written). Redis
// comes back a second in the past while PostgreSQL does not. The system
// must say what happened: each task ends completed, or failed with a
// reason, within a bound (the task reaper is the net for a flow Redis
// forgot), never stuck running; a page may be lost only if its work was
// that recent; every page stored is stored once, with one vector per chunk.
const LABEL = 'faults-redis-kill';
const LOCK_MS = 5_000;
const CRAWLS: Record<'dev' | 'other', CrawlRequest> = {
  dev: { seed: 'library/index.html', maxDepth: 1, maxPages: 60 },
  other: { seed: 'tutorial/index.html', maxDepth: 1, maxPages: 20 },
};
/** What `appendfsync everysec` may not have on disk when the machine dies: the last second of writes. */
const UNSYNCED_MS = 1_000;
/** Redis stays down this long: the services see it gone, not a blip. */
const DOWNTIME_MS = 2_000;
/** A page may be lost only if something of it was written this soon before the kill: the second cut from the AOF, plus the PostgreSQL-then-Redis gap on a loaded machine. */
const LOSS_WINDOW_MS = 4_000;
/** Both tasks final within this of Redis's restart: the stalled-job check, then at worst two reaper rounds (grace 20 s, checks every 10 s). */
const FINAL_WITHIN_MS = 240_000;
const pastScrape = (c: PageCounts) => c.scraped + c.embedded + c.skipped + c.failed;

let redis: TestRedisServer;
let redisDir: string;
let stack: FaultStack;
let watch: QueueWatch;
let dev: Tenant;
let other: Tenant;

beforeAll(async () => {
  redisDir = await mkdtemp(path.join(tmpdir(), 'kbflow-faults-redis-kill-'));
  mkdirSync(artifactDir(LABEL), { recursive: true });
  redis = await TestRedisServer.start(redisDir, artifactDir(LABEL));
  stack = await FaultStack.start({
    label: LABEL,
    redisUrl: redis.url,
    env: {
      KBFLOW_LOCK_DURATION_MS: String(LOCK_MS),
      KBFLOW_STALLED_INTERVAL_MS: String(LOCK_MS),
      // The reaper, minutes apart in production, within the test's time.
      KBFLOW_HEALTH_CHECK_SCHEDULE: '10s',
      KBFLOW_TASK_REAPER_GRACE_MS: '20000',
    },
  });
  stack.note(`redis-server pid ${redis.pid} on ${redis.url}, AOF (everysec) in ${redisDir}`);
  watch = await QueueWatch.start(stack.redisUrl, stack.prefix, [QueueName.scrape, QueueName.embed, QueueName.aggregate]);
  dev = await stack.devTenant();
  other = await stack.createTenant('faults-other');
}, 120_000);

afterAll(async () => {
  await watch?.close();
  const stuck = await stack?.close();
  await redis?.stop();
  if (redisDir) await rm(redisDir, { recursive: true, force: true });
  if (stuck?.length) throw new Error(`did not exit within 30 s of SIGTERM: ${stuck.join(', ')}`);
}, 90_000);

/** Polls a task over the API (which may answer errors while Redis is back but settling) until it is final. */
async function finalState(taskId: string, key: string, deadline: number): Promise<TaskJson> {
  for (;;) {
    const res = await stack.api('GET', `/v1/tasks/${taskId}`, undefined, key).catch(() => undefined);
    if (res?.status === 200 && ['completed', 'failed', 'cancelled'].includes(res.json.state)) return res.json as TaskJson;
    if (Date.now() > deadline) throw new Error(`task ${taskId} not final by the deadline: ${res ? `${res.status} ${JSON.stringify(res.json)}` : 'no answer'}`);
    await sleep(500);
  }
}

describe('Redis killed with SIGKILL (appendfsync everysec) in the middle of two crawls', () => {
  const taskIds = { dev: '', other: '' };
  const final: Record<string, TaskJson> = {};
  let killedAt: number;
  let restartedAt: number;
  /** Each page's last write in PostgreSQL as it stood when Redis came back (writes while it was down included). */
  const lastWriteAtKill = new Map<string, number>();

  it('after the restart every task ends completed or failed with a reason within the bound, never stuck running', async () => {
    taskIds.dev = await stack.submitCrawl(CRAWLS.dev, dev.key);
    taskIds.other = await stack.submitCrawl(CRAWLS.other, other.key);
    // Where the AOF stood, every 100 ms, so that the last second of it can be taken away after the kill.
    const tails: { at: number; file: string; bytes: number }[] = [];
    const sampler = setInterval(() => {
      // A manifest read while Redis rewrites it is skipped: the next sample comes 100 ms later.
      try {
        tails.push({ at: Date.now(), ...redis.aofTail() });
      } catch {
        /* the next sample */
      }
    }, 100);
    let pages: PageCounts;
    let scraping: string[];
    try {
      pages = await stack.waitForPages(taskIds.dev, 'a crawl well under way', (c) => pastScrape(c) >= 15 && c.embedded >= 5, 120_000, 20);
      scraping = await stack.waitForHeldJobs('scraper', QueueName.scrape, 30_000);
    } finally {
      clearInterval(sampler);
    }

    killedAt = Date.now();
    const exit = await redis.kill();
    stack.note(`redis-server killed (${String(exit)}) at pages ${JSON.stringify(pages)} with ${scraping.length} scrape jobs active`);
    expect(exit).toBe('SIGKILL');
    // The process's death alone loses nothing Redis wrote (the kernel has it).
    // What everysec can lose is the last second not yet synced to the disk,
    // as on a power cut: cut the AOF back to where it stood a second before the kill.
    const current = redis.aofTail();
    const cutTo = tails.filter((t) => t.at <= killedAt - UNSYNCED_MS && t.file === current.file).at(-1);
    expect(cutTo).toBeDefined();
    const cut = redis.truncateAof(cutTo!);
    stack.note(`AOF cut back ${cut} bytes, to where it stood ${killedAt - cutTo!.at} ms before the kill`);
    expect(cut).toBeGreaterThan(0);
    await sleep(DOWNTIME_MS);
    // Read just before the restart, not at the kill: a job in flight when
    // Redis died goes on writing PostgreSQL while Redis is down (its page
    // read `discovered` at the kill, then `scraped`), and its work is as
    // recent as any.
    for (const page of await stack.db.taskPage.findMany({
      where: { taskId: { in: [taskIds.dev, taskIds.other] } },
      select: { taskId: true, url: true, createdAt: true, updatedAt: true },
    })) {
      lastWriteAtKill.set(`${page.taskId} ${page.url}`, Math.max(page.createdAt.getTime(), page.updatedAt.getTime()));
    }
    await redis.startAgain();
    restartedAt = Date.now();
    stack.note(`redis-server started again (pid ${redis.pid}) from its AOF after ${restartedAt - killedAt} ms down`);
    expect(await redis.countKeys(`${stack.prefix}*`)).toBeGreaterThan(0);
    const ready = await stack.waitForAllReady(60_000);
    stack.note(`readyz 200 again after (ms from restart): ${JSON.stringify(ready)}`);
    expect(Object.keys(ready).sort()).toEqual(['aggregator', 'api', 'embedder', 'maintenance', 'scraper']);

    const deadline = restartedAt + FINAL_WITHIN_MS;
    final.dev = await finalState(taskIds.dev, dev.key, deadline);
    final.other = await finalState(taskIds.other, other.key, deadline);
    for (const [name, task] of Object.entries(final)) {
      stack.note(
        `${name} task ${task.id} ${task.state} ${Date.now() - restartedAt} ms after the restart: ${JSON.stringify(task.progress)} ${task.error ?? ''}`,
      );
      expect(['completed', 'failed']).toContain(task.state);
      // Failed says why.
      if (task.state === 'failed') expect(task.error).toEqual(expect.stringMatching(/\S/));
    }
  }, 420_000);

  it('a page was lost only if written within the fsync window before the kill; the rest are each stored once with one vector per chunk', async () => {
    expect(final.dev).toBeDefined();
    let lostTotal = 0;
    for (const [name, tenant] of [
      ['dev', dev],
      ['other', other],
    ] as const) {
      const taskId = taskIds[name];
      const pages = await stack.db.taskPage.findMany({ where: { taskId }, select: { url: true, status: true, error: true, documentId: true } });
      // Every page final: none left discovered or scraped.
      expect(pages.filter((p) => p.status === 'discovered' || p.status === 'scraped').map((p) => `${p.url}: ${p.status}`)).toEqual([]);
      const lost = pages.filter((p) => p.status === 'failed' && LOST_WORK_ERRORS.includes(p.error ?? ''));
      const outsideWindow = lost.filter((p) => {
        const at = lastWriteAtKill.get(`${taskId} ${p.url}`);
        return at === undefined || at < killedAt - LOSS_WINDOW_MS;
      });
      stack.note(
        `${name}: ${lost.length} pages lost (${lost.map((p) => `${p.url} ${p.error} ${killedAt - (lastWriteAtKill.get(`${taskId} ${p.url}`) ?? 0)} ms before the kill`).join('; ')})`,
      );
      expect(
        outsideWindow.map((p) => `${p.url}: ${p.error}, last written ${killedAt - (lastWriteAtKill.get(`${taskId} ${p.url}`) ?? 0)} ms before the kill`),
      ).toEqual([]);
      lostTotal += lost.length;

      // Stored once: one document per URL of the knowledge base; each embedded page's document indexed, every chunk with exactly one vector.
      const { knowledgeBaseId } = await stack.db.task.findUniqueOrThrow({ where: { id: taskId }, select: { knowledgeBaseId: true } });
      const documents = await stack.db.document.findMany({ where: { knowledgeBaseId }, select: { id: true, url: true, status: true } });
      expect(new Set(documents.map((d) => d.url)).size).toBe(documents.length);
      const embedded = pages.filter((p) => p.status === 'embedded');
      const byId = new Map(documents.map((d) => [d.id, d]));
      expect(embedded.filter((p) => byId.get(p.documentId ?? '')?.status !== 'indexed').map((p) => p.url)).toEqual([]);
      const chunks = await stack.db.chunk.findMany({ where: { tenantId: tenant.id }, select: { id: true, indexed: true, documentId: true } });
      const embeddedDocs = new Set(embedded.map((p) => p.documentId));
      expect(chunks.filter((c) => embeddedDocs.has(c.documentId) && !c.indexed).map((c) => c.id)).toEqual([]);
      const ids = await vectorIds(stack, tenant.id);
      const chunkIds = new Set(chunks.map((c) => c.id));
      const vectorSet = new Set(ids);
      expect({ duplicates: ids.length - vectorSet.size, withoutChunk: ids.filter((id) => !chunkIds.has(id)).length }).toEqual({
        duplicates: 0,
        withoutChunk: 0,
      });
      expect(chunks.filter((c) => c.indexed && !vectorSet.has(c.id)).map((c) => c.id)).toEqual([]);

      // With nothing lost, the whole check: exactly the pages expected, nothing left in the queues, nothing dead-lettered.
      if (lost.length === 0 && final[name]!.state === 'completed') {
        const summary = await assertNothingLost(stack, taskId, final[name]!, CRAWLS[name]);
        stack.note(`${name}: nothing lost: ${JSON.stringify(summary)}`);
      }
    }
    // What the lost second cost instead: jobs Redis remembered as running (or not yet done) came back through the stalled-job check and ran again.
    const stalled = watch.of('stalled', undefined, killedAt);
    stack.note(
      `pages lost in all: ${lostTotal}; jobs run again after the restart: ${stalled.length} (${stalled.map((e) => `${e.queue}/${e.jobId}`).join(' ')}); jobs failed: ${watch
        .of('failed')
        .map((e) => `${e.queue}/${e.jobId}: ${e.reason}`)
        .join('; ')}`,
    );
  }, 120_000);

  it("neither tenant sees the other's pages or tasks afterwards", async () => {
    const summary = await assertTenantsApart(stack, [
      { tenant: dev, query: 'how do I sort a list', taskIds: [taskIds.dev] },
      { tenant: other, query: 'an informal introduction to python', taskIds: [taskIds.other] },
    ]);
    stack.note(`tenants apart: ${JSON.stringify(summary)}`);
  }, 120_000);

  it('the workers still stop cleanly on SIGTERM after the kill', async () => {
    const exits = await stack.signalAll(WORKERS, 'SIGTERM', 30_000);
    expect(exits.map((e) => [e.name, e.exit])).toEqual(WORKERS.map((name) => [name, 0]));
  }, 60_000);
});
