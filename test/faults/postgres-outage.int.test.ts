import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { adminUrl, startTcpProxy, testRedisUrl, type TcpProxy } from '@kbflow/testing';
import { assertNothingLost } from './support/assert-nothing-lost.ts';
import { FaultStack, sleep, type CrawlRequest, type PageCounts } from './support/fault-stack.ts';
import { QueueWatch } from './support/queue-watch.ts';

// A PostgreSQL outage in the middle of a crawl (issue 14 item 8). The
// server is shared by every test on the machine, so the outage is the
// services' alone: their DATABASE_URL points at a TCP proxy this test
// resets and closes (connections dropped mid-query, new ones refused),
// which from the services' side is PostgreSQL going away.
const LABEL = 'faults-postgres';
const CRAWL: CrawlRequest = { seed: 'library/index.html', maxDepth: 1, maxPages: 50 };
const OUTAGE_MS = 30_000;
const CRAWL_QUEUES = [QueueName.scrape, QueueName.embed, QueueName.aggregate];
const pastScrape = (c: PageCounts) => c.scraped + c.embedded + c.skipped + c.failed;

let proxy: TcpProxy;
let stack: FaultStack;
let watch: QueueWatch;

beforeAll(async () => {
  const server = new URL(adminUrl());
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
  stack = await FaultStack.start({ label: LABEL, redisUrl: testRedisUrl(), servicesDatabaseUrl: proxy.url });
  stack.note(`services reach PostgreSQL through the proxy on port ${proxy.port}`);
  watch = await QueueWatch.start(stack.redisUrl, stack.prefix, CRAWL_QUEUES);
}, 120_000);

afterAll(async () => {
  await watch?.close();
  await proxy?.up();
  const stuck = await stack?.close();
  await proxy?.close();
  if (stuck?.length) throw new Error(`did not exit within 30 s of SIGTERM: ${stuck.join(', ')}`);
}, 90_000);

/** The services' log lines (JSON) with this message. */
function logLines(msg: string): Record<string, unknown>[] {
  return readdirSync(stack.logDir)
    .filter((f) => f.endsWith('.log') && f !== 'timeline.log')
    .flatMap((f) => readFileSync(path.join(stack.logDir, f), 'utf8').split('\n'))
    .filter((line) => line.includes(msg))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('a PostgreSQL outage of 30 s in the middle of a crawl', () => {
  it('the API answers 503 with Retry-After meanwhile; no job fails or is dead-lettered, no attempt is spent, and the crawl completes with every page', async () => {
    const taskId = await stack.submitCrawl(CRAWL);
    const pages = await stack.waitForPages(taskId, 'a crawl under way', (c) => pastScrape(c) >= 8, 120_000, 50);
    await proxy.down();
    const downAt = Date.now();
    stack.note(`PostgreSQL down for the services at pages ${JSON.stringify(pages)}`);
    // The API says what is wrong, and when to come back: 503 with Retry-After, not a 500.
    const answers = [];
    for (const [method, route, body] of [
      ['GET', `/v1/tasks/${taskId}`],
      ['GET', '/v1/tasks'],
      ['POST', '/v1/crawl', { url: stack.seedUrl(CRAWL), maxPages: 5, engine: 'http' }],
    ] as const) {
      const res = await fetch(`${stack.apiUrl}${route}`, {
        method,
        headers: { authorization: 'Bearer faults-dev-key', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      answers.push({
        route: `${method} ${route}`,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        code: ((await res.json()) as { error?: { code?: string } }).error?.code,
      });
    }
    stack.note(`API during the outage: ${JSON.stringify(answers)}`);
    expect(answers).toEqual(answers.map((a) => ({ route: a.route, status: 503, retryAfter: '5', code: 'database_unavailable' })));
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    const during = await stack.pageCounts(taskId);
    await proxy.up();
    stack.note(`PostgreSQL back after ${OUTAGE_MS} ms; pages ${JSON.stringify(during)}`);

    const task = await stack.waitForTask(taskId, 150_000);
    const summary = await assertNothingLost(stack, taskId, task, CRAWL);
    stack.note(`nothing lost: ${JSON.stringify(summary)}`);
    expect(summary).toEqual(expect.objectContaining({ pages: CRAWL.maxPages, embedded: CRAWL.maxPages, failed: 0 }));
    expect(watch.of('failed').map((e) => `${e.queue}/${e.jobId}: ${e.reason}`)).toEqual([]);

    // The outage reached jobs (they waited it out), and cost none of them an attempt:
    // every job of the crawl completed on its first one.
    const waited = logLines('database unavailable; rate-limiting the queue');
    stack.note(`jobs that met the outage: ${waited.length} (${[...new Set(waited.map((l) => `${String(l.queue)}/${String(l.job)}`))].join(', ')})`);
    expect(waited.length).toBeGreaterThan(0);
    const retried: string[] = [];
    for (const queue of CRAWL_QUEUES) {
      const jobs = await stack.producer.queue(queue).getJobs(['completed'], 0, -1);
      expect(jobs.length).toBeGreaterThan(0);
      for (const job of jobs)
        if (job.attemptsMade !== 1)
          retried.push(`${queue}/${job.id}: ${job.attemptsMade} attempts (${job.failedReason ?? job.stacktrace?.[0]?.split('\n')[0] ?? 'no reason kept'})`);
    }
    expect(retried).toEqual([]);
  }, 240_000);
});
