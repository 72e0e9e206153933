import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { artifactDir, ALL_SERVICES } from '@kbflow/testing';
import { assertNothingLost } from './support/assert-nothing-lost.ts';
import { FaultStack, sleep, WORKERS, type CrawlRequest, type PageCounts } from './support/fault-stack.ts';
import { QueueWatch } from './support/queue-watch.ts';
import { TestRedisServer } from './support/redis-server.ts';

const LABEL = 'faults-redis';
// 426 pages are reachable within two hops of the tutorial; the budget cuts
// the crawl to 140, each of which must be a link of its recorded parent.
const CRAWL: CrawlRequest = { seed: 'tutorial/index.html', maxDepth: 2, maxPages: 140 };
/** How long Redis stays down: longer than a readiness check (3 s), far shorter than a job lock (30 s). */
const DOWNTIME_MS = 5_000;
const pastScrape = (c: PageCounts) => c.scraped + c.embedded + c.skipped + c.failed;

let redis: TestRedisServer;
let redisDir: string;
let stack: FaultStack;
let watch: QueueWatch;

beforeAll(async () => {
  redisDir = await mkdtemp(path.join(tmpdir(), 'kbflow-faults-redis-'));
  mkdirSync(artifactDir(LABEL), { recursive: true });
  redis = await TestRedisServer.start(redisDir, artifactDir(LABEL));
  stack = await FaultStack.start({ label: LABEL, redisUrl: redis.url });
  stack.note(`redis-server pid ${redis.pid} on ${redis.url}, AOF in ${redisDir}`);
  watch = await QueueWatch.start(stack.redisUrl, stack.prefix, [QueueName.scrape, QueueName.embed, QueueName.aggregate]);
}, 120_000);

afterAll(async () => {
  await watch?.close();
  const stuck = await stack?.close();
  await redis?.stop();
  if (redisDir) await rm(redisDir, { recursive: true, force: true });
  if (stuck?.length) throw new Error(`did not exit within 30 s of SIGTERM: ${stuck.join(', ')}`);
}, 90_000);

describe('a Redis restart (AOF) in the middle of a crawl', () => {
  let taskId: string;

  it('every service reports unready while Redis is down and ready again after it restarts', async () => {
    taskId = await stack.submitCrawl(CRAWL);
    const pages = await stack.waitForPages(taskId, 'a crawl well under way', (c) => pastScrape(c) >= 30 && c.embedded >= 10, 120_000);
    // Jobs in flight on both sides when Redis goes away.
    const scraping = await stack.waitForHeldJobs('scraper', QueueName.scrape, 30_000);
    const embedding = await stack.waitForHeldJobs('embedder', QueueName.embed, 30_000);
    const parentJob = `crawl-${taskId}`;
    expect(await stack.producer.queue(QueueName.aggregate).getJobState(parentJob)).toBe('waiting-children');

    const stoppedAt = Date.now();
    const exit = await redis.stop();
    stack.note(
      `redis-server stopped (exit ${String(exit)}) at pages ${JSON.stringify(pages)}, ${scraping.length} scrape and ${embedding.length} embed jobs active`,
    );
    expect(exit).toBe(0);

    const whileDown = Object.fromEntries(await Promise.all(ALL_SERVICES.map(async (name) => [name, await stack.readyz(name)] as const)));
    stack.note(`readyz while Redis is down: ${JSON.stringify(whileDown)}`);
    expect(Object.values(whileDown).filter((status) => status === 200)).toEqual([]);
    await sleep(Math.max(0, DOWNTIME_MS - (Date.now() - stoppedAt)));

    await redis.startAgain();
    stack.note(`redis-server started again (pid ${redis.pid}) after ${Date.now() - stoppedAt} ms down`);
    // The AOF brought the queues back: the crawl's flow parent is still waiting on its pages.
    expect(await redis.countKeys(`${stack.prefix}*`)).toBeGreaterThan(0);

    const readyAfter = await stack.waitForAllReady(60_000);
    stack.note(`readyz 200 again after (ms from restart): ${JSON.stringify(readyAfter)}`);
    expect(Object.keys(readyAfter).sort()).toEqual([...ALL_SERVICES].sort());
    expect(await stack.producer.queue(QueueName.aggregate).getJobState(parentJob)).toBe('waiting-children');
  }, 240_000);

  it('the crawl completes with every page stored once and one vector per chunk', async () => {
    expect(taskId).toBeDefined();
    const task = await stack.waitForTask(taskId, 180_000);
    const summary = await assertNothingLost(stack, taskId, task, CRAWL);
    stack.note(`nothing lost: ${JSON.stringify(summary)}`);
    // Not a loss, but worth knowing: a job that had to wait for the stalled-job check after the restart.
    for (const e of watch.of('stalled')) {
      const job = await stack.producer.queue(e.queue).getJob(e.jobId);
      const url = typeof job?.data?.url === 'string' ? (job.data.url as string) : undefined;
      const fetches = url ? stack.site.requests.filter((p) => `${stack.site.url}${p}` === url).length : undefined;
      stack.note(
        `stalled after the restart: ${e.queue}/${e.jobId} ${url ?? ''} attemptsStarted ${job?.attemptsStarted} attemptsMade ${job?.attemptsMade} fetches ${fetches}`,
      );
    }
    expect(summary).toEqual(expect.objectContaining({ exact: false, pages: CRAWL.maxPages }));
    expect(watch.of('failed').map((e) => `${e.queue}/${e.jobId}: ${e.reason}`)).toEqual([]);
  }, 200_000);

  it('the workers still stop cleanly on SIGTERM after the restart', async () => {
    const exits = await stack.signalAll(WORKERS, 'SIGTERM', 30_000);
    expect(exits.map((e) => [e.name, e.exit])).toEqual(WORKERS.map((name) => [name, 0]));
  }, 60_000);
});
