import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { testRedisUrl, type ServiceName } from '@kbflow/testing';
import { jobIdOf } from '../../services/scraper/src/processors/scrape-page.processor.ts';
import { reachablePages } from '../e2e/reachable-pages.ts';
import { assertNothingLost } from './support/assert-nothing-lost.ts';
import { CORPUS, FaultStack, WORKERS, type CrawlRequest, type PageCounts, type Tenant } from './support/fault-stack.ts';
import { QueueWatch } from './support/queue-watch.ts';
import { assertTenantsApart, ticketRecords } from './support/tenants-apart.ts';

const LOCK_MS = 5_000;
const STALLED_MS = 5_000;

// The library index links 293 library pages and nothing else within one
// hop: 294 pages, none missing, so the stored set is compared page for page.
const CRAWL: CrawlRequest = { seed: 'library/index.html', maxDepth: 1, maxPages: 1000 };
interface Kill {
  service: ServiceName;
  queue: QueueName;
  /** When, in page statuses (N = pages expected). */
  when: (pages: PageCounts, n: number) => boolean;
}
const pastScrape = (c: PageCounts) => c.scraped + c.embedded + c.skipped + c.failed;
/**
 * Two kills of each worker. The first hits the seed's job once it has claimed
 * the library's links (it must enqueue them again when it comes back); the
 * others hit whatever is running, early, so that the 30-90 s their jobs take
 * to come back through the stalled-job check overlap the rest of the crawl.
 * A job interrupted by more kills than BullMQ's maxStalledCount (2) fails for
 * good by design; no job here can be running at more than two of these
 * kills, so anything lost is a real loss.
 */
const KILLS: Kill[] = [
  { service: 'scraper', queue: QueueName.scrape, when: (c) => c.total > 1 },
  { service: 'embedder', queue: QueueName.embed, when: (c, n) => c.embedded >= 0.05 * n },
  { service: 'scraper', queue: QueueName.scrape, when: (c, n) => pastScrape(c) >= 0.12 * n },
  { service: 'embedder', queue: QueueName.embed, when: (c, n) => c.embedded >= 0.2 * n },
];

let stack: FaultStack;
let watch: QueueWatch;
/** A second tenant, whose records go through the same workers while they are killed. */
let other: Tenant;
let otherTaskId: string;

beforeAll(async () => {
  stack = await FaultStack.start({
    label: 'faults-kill',
    redisUrl: testRedisUrl(),
    // Short locks so killed jobs come back in seconds, not a minute and a half.
    env: { KBFLOW_LOCK_DURATION_MS: String(LOCK_MS), KBFLOW_STALLED_INTERVAL_MS: String(STALLED_MS) },
  });
  watch = await QueueWatch.start(stack.redisUrl, stack.prefix, [QueueName.scrape, QueueName.embed, QueueName.aggregate]);
  other = await stack.createTenant('faults-other');
}, 120_000);

afterAll(async () => {
  await watch?.close();
  const stuck = await stack?.close();
  if (stuck?.length) throw new Error(`did not exit within 30 s of SIGTERM: ${stuck.join(', ')}`);
}, 90_000);

describe('kill -9 of scraper and embedder processes during a crawl', () => {
  const done: { service: ServiceName; queue: QueueName; at: number; held: string[] }[] = [];
  let taskId: string;

  it('the crawl still completes, with every page stored once and one vector per chunk', async () => {
    const expected = reachablePages(CORPUS, stack.site.url, `${stack.site.url}/${CRAWL.seed}`, CRAWL.maxDepth);
    expect(expected.pages.size).toBeGreaterThanOrEqual(150);
    const n = expected.pages.size;

    otherTaskId = await stack.uploadRecords(other, 'default', 'tickets', ticketRecords(200, 'other'));
    taskId = await stack.submitCrawl(CRAWL);
    for (const kill of KILLS) {
      const pages = await stack.waitForPages(taskId, `the moment to kill ${kill.service}`, (c) => kill.when(c, n), 200_000, 20);
      // An embedder job can finish in the few milliseconds between seeing it
      // active and the SIGKILL landing; such a kill interrupted nothing, so the
      // worker is started again and killed again until a kill holds jobs.
      for (let attempt = 1; ; attempt++) {
        // Only jobs the live process started: the dead one's are still "active" until they stall.
        await stack.waitForHeldJobs(kill.service, kill.queue, 30_000);
        const startedAt = stack.startedAt(kill.service);
        const { at } = await stack.kill(kill.service);
        // Read once the process is gone, so the list is exactly what it held when it died.
        const held = await stack.activeJobIdsSince(kill.queue, startedAt);
        stack.note(`kill ${kill.service} (try ${attempt}) at pages ${JSON.stringify(pages)} holding ${held.length} ${kill.queue} jobs: ${held.join(' ')}`);
        await stack.startFresh(kill.service);
        if (held.length > 0) {
          done.push({ service: kill.service, queue: kill.queue, at, held });
          break;
        }
        if (attempt === 5) throw new Error(`5 kills of ${kill.service} in a row landed between jobs`);
      }
    }
    expect(done.map((k) => k.service)).toEqual(['scraper', 'embedder', 'scraper', 'embedder']);
    // Usually the seed's job is among them; when it finished first, the kill still interrupted link jobs.
    stack.note(`the first kill ${done[0]!.held.includes(`scrape-${taskId}-0`) ? 'hit' : 'missed'} the seed's job`);

    const task = await stack.waitForTask(taskId, 240_000);
    const summary = await assertNothingLost(stack, taskId, task, CRAWL);
    stack.note(`nothing lost: ${JSON.stringify(summary)}`);
    expect(summary).toEqual(expect.objectContaining({ exact: true, pages: n, embedded: n, failed: 0 }));
    expect(summary.chunks).toBeGreaterThan(n);
    const records = await stack.waitForTask(otherTaskId, 120_000, other.key);
    expect({ state: records.state, embedded: records.progress.embedded }).toEqual({ state: 'completed', embedded: 200 });
  }, 420_000);

  it('the jobs each kill interrupted came back through the stalled-job check, and none failed', () => {
    expect(done).toHaveLength(KILLS.length);
    for (const kill of done) {
      // The first time each held job stalled after the kill (a job can be held, and stall, again later).
      const stalled = watch.of('stalled', kill.queue, kill.at);
      const back = kill.held.flatMap((id) => stalled.find((e) => e.jobId === id) ?? []);
      const waits = back.map((e) => e.at - kill.at);
      stack.note(`${kill.service} kill: ${back.length}/${kill.held.length} held jobs stalled back after ${waits.join(', ')} ms`);
      expect(kill.held.length).toBeGreaterThan(0);
      expect(back.map((e) => e.jobId)).toEqual(kill.held);
      // The lock expires within lockDuration; the job is marked by one stalled
      // check and moved by the next after that. BullMQ's single checker skips
      // about one check in three (its timer and the stalled-check key's PX are
      // both stalledInterval, so the key is often still there at the same
      // millisecond): lock + 2 intervals, plus slack for a loaded machine.
      expect(Math.max(...waits)).toBeLessThan(LOCK_MS + 2 * STALLED_MS + 10_000);
    }
    expect(watch.of('failed').map((e) => `${e.queue}/${e.jobId}: ${e.reason}`)).toEqual([]);
  });

  it('a page was fetched again only when its job was killed or an attempt of it failed', async () => {
    const fetches = new Map<string, number>();
    // Pages only: robots.txt and /sitemap.xml are the site's files, read per host, not per page.
    for (const p of stack.site.requests.filter((r) => r !== '/robots.txt' && r !== '/sitemap.xml')) fetches.set(p, (fetches.get(p) ?? 0) + 1);
    expect(fetches.size).toBe(reachablePages(CORPUS, stack.site.url, `${stack.site.url}/${CRAWL.seed}`, CRAWL.maxDepth).pages.size);
    const timesKilled = (id: string) => done.filter((k) => k.queue === QueueName.scrape && k.held.includes(id)).length;
    // The API names the seed's job; the scraper names the jobs of the links it claims.
    const jobOf = (p: string) => (p === `/${CRAWL.seed}` ? `scrape-${taskId}-0` : jobIdOf('scrape', taskId, `${stack.site.url}${p}`));
    const again = await Promise.all(
      [...fetches]
        .filter(([, n]) => n > 1)
        .map(async ([p, n]) => {
          const job = await stack.producer.queue(QueueName.scrape).getJob(jobOf(p));
          // attemptsMade counts finished attempts: above 1, an attempt failed and was retried.
          return { page: p, fetches: n, killed: timesKilled(jobOf(p)), attempts: job?.attemptsMade ?? 0 };
        }),
    );
    stack.note(`pages fetched more than once: ${JSON.stringify(again)}`);
    // Each kill and each failed attempt costs at most one more fetch.
    expect(again.filter((a) => a.fetches > 1 + a.killed + Math.max(0, a.attempts - 1))).toEqual([]);
  });

  it("neither tenant sees the other's documents or tasks afterwards", async () => {
    const summary = await assertTenantsApart(stack, [
      { tenant: await stack.devTenant(), query: 'how do I sort a list', taskIds: [taskId] },
      { tenant: other, query: 'zephyrine printer jams', taskIds: [otherTaskId] },
    ]);
    stack.note(`tenants apart: ${JSON.stringify(summary)}`);
  }, 120_000);

  it('the replacement workers still stop cleanly on SIGTERM', async () => {
    const exits = await stack.signalAll(WORKERS, 'SIGTERM', 30_000);
    expect(exits.map((e) => [e.name, e.exit])).toEqual(WORKERS.map((name) => [name, 0]));
  }, 60_000);
});
