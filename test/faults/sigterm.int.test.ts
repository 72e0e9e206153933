import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { testRedisUrl } from '@kbflow/testing';
import { assertNothingLost } from './support/assert-nothing-lost.ts';
import { FaultStack, WORKERS, type CrawlRequest, type PageCounts } from './support/fault-stack.ts';
import { QueueWatch } from './support/queue-watch.ts';

// 517 pages are reachable within two hops of the index; the budget cuts the
// crawl to 160, each of which must be a link of its recorded parent.
const CRAWL: CrawlRequest = { seed: 'index.html', maxDepth: 2, maxPages: 160 };
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Time for the process to be reaped and its exit reported, beyond the shutdown deadline. */
const EXIT_MARGIN_MS = 1_500;
const pastScrape = (c: PageCounts) => c.scraped + c.embedded + c.skipped + c.failed;

let stack: FaultStack;
let watch: QueueWatch;

beforeAll(async () => {
  stack = await FaultStack.start({
    label: 'faults-sigterm',
    redisUrl: testRedisUrl(),
    env: { KBFLOW_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
  });
  watch = await QueueWatch.start(stack.redisUrl, stack.prefix, [QueueName.scrape, QueueName.embed, QueueName.aggregate]);
}, 120_000);

afterAll(async () => {
  await watch?.close();
  const stuck = await stack?.close();
  if (stuck?.length) throw new Error(`did not exit within 30 s of SIGTERM: ${stuck.join(', ')}`);
}, 90_000);

describe('SIGTERM to every worker process in the middle of a crawl', () => {
  let taskId: string;
  let inFlight: { scrape: string[]; embed: string[] };

  it('each worker finishes its active jobs and exits 0 within KBFLOW_SHUTDOWN_TIMEOUT_MS', async () => {
    taskId = await stack.submitCrawl(CRAWL);
    const pages = await stack.waitForPages(taskId, 'a crawl well under way', (c) => pastScrape(c) >= 40 && c.embedded >= 10, 120_000);
    inFlight = {
      scrape: await stack.waitForHeldJobs('scraper', QueueName.scrape, 30_000),
      embed: await stack.waitForHeldJobs('embedder', QueueName.embed, 30_000),
    };
    stack.note(`SIGTERM to ${WORKERS.join(', ')} at pages ${JSON.stringify(pages)}; active: ${JSON.stringify(inFlight)}`);

    const exits = await stack.signalAll(WORKERS, 'SIGTERM', SHUTDOWN_TIMEOUT_MS + 10_000);
    expect(exits.map((e) => [e.name, e.exit])).toEqual(WORKERS.map((name) => [name, 0]));
    const late = exits.filter((e) => e.ms >= SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS);
    expect(late.map((e) => `${e.name} took ${e.ms} ms`)).toEqual([]);
  }, 240_000);

  it('the jobs that were running when the signal came were finished, not abandoned to the stalled-job check', async () => {
    expect(inFlight).toBeDefined();
    const states = async (queue: QueueName, ids: string[]) =>
      Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await stack.producer.queue(queue).getJobState(id)] as const)));
    const scrape = await states(QueueName.scrape, inFlight.scrape);
    const embed = await states(QueueName.embed, inFlight.embed);
    stack.note(`after shutdown: scrape jobs ${JSON.stringify(scrape)}; embed jobs ${JSON.stringify(embed)}`);
    // A scrape job may also have been deferred (moved to `delayed` without an
    // attempt) because its host was at its per-host limit: handed back, not
    // abandoned. Abandoned would read active, or waiting after a stall.
    expect(Object.entries(scrape).filter(([, state]) => state !== 'completed' && state !== 'delayed')).toEqual([]);
    expect(Object.entries(embed).filter(([, state]) => state !== 'completed')).toEqual([]);
    // No worker runs, so an active job here would be one a worker walked away from.
    const active = await Promise.all([QueueName.scrape, QueueName.embed, QueueName.aggregate].map((q) => stack.producer.queue(q).getActiveCount()));
    expect(active).toEqual([0, 0, 0]);
  });

  it('fresh workers finish the crawl with every page stored once and one vector per chunk', async () => {
    expect(taskId).toBeDefined();
    const restartedAt = Date.now();
    await Promise.all(WORKERS.map((name) => stack.startFresh(name)));
    const task = await stack.waitForTask(taskId, 180_000);
    stack.note(`crawl completed ${Date.now() - restartedAt} ms after the workers were started again`);
    const summary = await assertNothingLost(stack, taskId, task, CRAWL);
    stack.note(`nothing lost: ${JSON.stringify(summary)}`);
    expect(summary).toEqual(expect.objectContaining({ exact: false, pages: CRAWL.maxPages }));
    expect(watch.of('stalled').map((e) => `${e.queue}/${e.jobId}`)).toEqual([]);
    expect(watch.of('failed').map((e) => `${e.queue}/${e.jobId}: ${e.reason}`)).toEqual([]);
  }, 240_000);

  it('the fresh workers stop cleanly on SIGTERM too', async () => {
    const exits = await stack.signalAll(WORKERS, 'SIGTERM', SHUTDOWN_TIMEOUT_MS + 10_000);
    expect(exits.map((e) => [e.name, e.exit])).toEqual(WORKERS.map((name) => [name, 0]));
  }, 60_000);
});
