import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import {
  ALL_SERVICES,
  artifactDir,
  SHARED_DATA,
  startE2eStack,
  startStaticServer,
  type Stack,
  type StaticServer,
  type E2eStack,
  apiClient,
} from '@kbflow/testing';
import { EMBED_BATCH_SIZE } from '../../services/scraper/src/processors/scrape-page.processor.ts';
import { EMBED_BATCH } from '../../services/embedder/src/chunk-batcher.ts';
import { reachablePages } from '../e2e/reachable-pages.ts';
import { prometheusBinary, startPrometheus, type PrometheusServer } from './support/prometheus-server.ts';

// A real Prometheus scrapes the five service processes while they crawl a
// small part of the Python documentation and answer one question; the series
// it stored must add up to what the task, the database and this test did.
const CORPUS = path.join(SHARED_DATA, 'docs-corpus/python-3.11-html');
const KEY = 'prom-dev-key';
const MAX_PAGES = 30;
const MAX_DEPTH = 1;
const QUEUES = ['scrape', 'embed', 'aggregate', 'query', 'maintenance', 'webhook', 'dead-letter'];
/** How long Prometheus gets to scrape the final state (1 s interval). */
const SETTLE_TIMEOUT_MS = 30_000;

let e2e: E2eStack;
let db: Db;
let site: StaticServer;
let stack: Stack;
let prometheus: PrometheusServer;
/** Requests this test made to GET /v1/tasks/:id, to compare with the API's histogram. */
let taskPolls = 0;

const client = apiClient(() => stack.apiUrl, KEY);
const api = client.call;

const waitForTask = (taskId: string, timeoutMs: number) => client.waitForTask(taskId, timeoutMs, { onPoll: () => (taskPolls += 1) });

/** `{ label value → sample value }` of an instant query. */
async function byLabel(expr: string, label: string): Promise<Record<string, number>> {
  const samples = await prometheus.query(expr);
  return Object.fromEntries(samples.map((s) => [s.metric[label] ?? '', s.value]));
}

/** `{ service → 1 }` for every target Prometheus scraped successfully. */
async function upTargets(): Promise<Record<string, number>> {
  return byLabel('up', 'job');
}

/**
 * Waits until Prometheus has scraped every target after `since` (seconds) and
 * holds the jobs that finish after the task does, within a deadline. The
 * tests then assert on what Prometheus stored; when the deadline passes they
 * fail on the values it has.
 */
async function waitForFinalScrape(since: number): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const scrapedAt = await byLabel('timestamp(up)', 'job');
    const fresh = ALL_SERVICES.every((s) => (scrapedAt[s] ?? 0) > since);
    const crawlDone = await prometheus.value('sum(kbflow_jobs_total{queue="aggregate",job_name="complete-crawl",outcome="completed"})');
    const queryDone = await prometheus.value('sum(kbflow_jobs_total{queue="query",job_name="answer-query",outcome="completed"})');
    const checked = await prometheus.value('count(kbflow_dependency_up)');
    const compactions = await prometheus.value('sum(kbflow_jobs_total{queue="maintenance",job_name="compact-vector-store",outcome="completed"})');
    if (fresh && crawlDone === 1 && queryDone === 1 && checked === 3 && compactions >= 2) return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  // Fails the whole file at once, before any service starts, when Prometheus is missing.
  prometheusBinary();
  site = await startStaticServer(CORPUS);
  const logDir = artifactDir('ops-prometheus');
  e2e = await startE2eStack('prom', {
    logDir,
    env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true', KBFLOW_DEV_API_KEY: KEY, KBFLOW_ADMIN_API_KEY: 'prom-admin-key' },
  });
  stack = e2e.stack;
  db = createDb(e2e.database.url);
  const targets = Object.fromEntries(ALL_SERVICES.map((name) => [name, stack.services.get(name)!.metricsPort]));
  prometheus = await startPrometheus(targets, { logDir, scrapeIntervalSeconds: 1 });
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await db?.$disconnect();
  await e2e?.teardown();
  await site?.close();
}, 60_000);

describe('Prometheus scraping the five services during a crawl', () => {
  const expected = reachablePages(CORPUS, 'http://127.0.0.1', 'http://127.0.0.1/tutorial/index.html', MAX_DEPTH);
  let task: any;
  let chunkCount: number;
  let embedJobs: number;

  it('scrapes every service: up is 1 for all five targets', async () => {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let up = await upTargets();
    while (Object.values(up).filter((v) => v === 1).length < ALL_SERVICES.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      up = await upTargets();
    }
    expect(up).toEqual({ api: 1, scraper: 1, embedder: 1, aggregator: 1, maintenance: 1 });
  }, 40_000);

  it('a crawl of the tutorial completes and a question is answered', async () => {
    // The crawl stays under maxPages, so what it discovers is known in advance.
    expect(expected.pages.size + expected.missing.size + expected.notHtml.size).toBeLessThan(MAX_PAGES);
    const res = await api('POST', '/v1/crawl', { url: `${site.url}/tutorial/index.html`, maxPages: MAX_PAGES, maxDepth: MAX_DEPTH });
    expect(res.status).toBe(202);
    task = await waitForTask(res.json.taskId, 90_000);
    expect(task.state).toBe('completed');
    expect(task.progress).toEqual({
      discovered: expected.pages.size + expected.missing.size,
      scraped: expected.pages.size,
      skipped: 0,
      embedded: expected.pages.size,
      failed: expected.missing.size,
      notModified: 0,
      unchangedByHash: 0,
      deletedGone: 0,
      deletedUnreached: 0,
      cancelled: 0,
    });
    expect(expected.missing.size).toBe(1);

    const answer = await api('POST', '/v1/query', { query: 'How do I read and write files?', topK: 3 });
    expect(answer.status).toBe(200);
    expect(answer.json.citations.length).toBeGreaterThan(0);

    const chunks = await db.chunk.findMany({ select: { documentId: true, indexed: true } });
    chunkCount = chunks.length;
    expect(chunkCount).toBeGreaterThan(expected.pages.size);
    expect(chunks.every((c) => c.indexed)).toBe(true);
    const perDocument = new Map<string, number>();
    for (const c of chunks) perDocument.set(c.documentId, (perDocument.get(c.documentId) ?? 0) + 1);
    expect(perDocument.size).toBe(expected.pages.size);
    embedJobs = [...perDocument.values()].reduce((n, count) => n + Math.ceil(count / EMBED_BATCH_SIZE), 0);

    // Everything counted happened before this point, except complete-crawl's
    // own counter (it moves a moment after the task turns completed) and the
    // compaction the finished crawl asked for.
    await waitForFinalScrape(Date.now() / 1000);
  }, 150_000);

  it('counts one completed scrape-page job per discovered page (the 404 page included) and one complete-document per embedded page', async () => {
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="scrape",job_name="scrape-page",outcome="completed"})')).toBe(task.progress.discovered);
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="aggregate",job_name="complete-document",outcome="completed"})')).toBe(task.progress.embedded);
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="aggregate",job_name="complete-crawl",outcome="completed"})')).toBe(1);
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="embed",job_name="embed-chunks",outcome="completed"})')).toBe(embedJobs);
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="query",job_name="answer-query",outcome="completed"})')).toBe(1);
    // Maintenance registers the knowledge schedule at start; an interval
    // schedule runs once at registration, so the aggregator ran one generation.
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="aggregate",job_name="generate-knowledge",outcome="completed"})')).toBe(1);
    // Nothing failed or was retried: the 404 is recorded as a failed page by a
    // completed job. A page that found its host at its politeness limit was
    // deferred (outcome "deferred": no attempt spent), which is not a failure.
    expect(await prometheus.query('kbflow_jobs_total{outcome!~"completed|deferred"}')).toEqual([]);
    // Each job is counted by the service that ran it, and only there.
    expect(await byLabel('sum by (service) (kbflow_jobs_total{outcome="completed",queue=~"scrape|embed|aggregate|query"})', 'service')).toEqual({
      scraper: task.progress.discovered,
      embedder: embedJobs,
      // complete-document per page, complete-crawl, answer-query, generate-knowledge
      aggregator: task.progress.embedded + 1 + 1 + 1,
    });
    // The histogram observes exactly the jobs the counter counts.
    expect(await prometheus.value('sum(kbflow_job_duration_seconds_count{queue="scrape",job_name="scrape-page",outcome="completed"})')).toBe(
      task.progress.discovered,
    );
  });

  it('counts every chunk in the database once as an embedded text, in provider batches that span embed jobs', async () => {
    // instrumentEmbedder wraps the cached embedder, so it counts the texts
    // each embed() call was asked for, cache hits included: one per chunk of
    // an embed-chunks job. No job ran twice (asserted above), so that is one
    // per chunk row.
    expect(await prometheus.value('sum(kbflow_embedding_texts_total{service="embedder"})')).toBe(chunkCount);
    // ChunkBatcher embeds the chunks of the jobs waiting together in calls of
    // up to EMBED_BATCH texts: never more calls than jobs, never fewer than
    // the chunks need.
    const batches = await prometheus.value('sum(kbflow_embedding_batches_total{service="embedder"})');
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(chunkCount / EMBED_BATCH));
    expect(batches).toBeLessThanOrEqual(embedJobs);
    expect(await prometheus.value('sum(kbflow_embedding_tokens_total{service="embedder"})')).toBeGreaterThan(chunkCount);
    // The aggregator embedded the question, once.
    expect(await prometheus.value('sum(kbflow_embedding_texts_total{service="aggregator"})')).toBe(1);
  });

  it('reports the jobs of all seven queues per state from the api, with every scrape job completed', async () => {
    const samples = await prometheus.query('kbflow_queue_jobs');
    expect(new Set(samples.map((s) => s.metric.queue))).toEqual(new Set(QUEUES));
    expect(new Set(samples.map((s) => s.metric.service))).toEqual(new Set(['api']));
    expect(samples).toHaveLength(QUEUES.length * 7);
    const completed = await byLabel('kbflow_queue_jobs{state="completed"}', 'queue');
    expect(completed.scrape).toBe(task.progress.discovered);
    expect(completed.embed).toBe(embedJobs);
    // complete-document per page, complete-crawl and the start-up knowledge generation
    expect(completed.aggregate).toBe(task.progress.embedded + 1 + 1);
    expect(completed.query).toBe(1);
    expect(completed['dead-letter']).toBe(0);
    expect(
      await prometheus.value('sum(kbflow_queue_jobs{state=~"waiting|prioritized|active|waiting-children|failed",queue=~"scrape|embed|aggregate|query"})'),
    ).toBe(0);
    expect(Object.keys(await byLabel('kbflow_queue_oldest_job_age_seconds', 'queue')).sort()).toEqual([...QUEUES].sort());
  });

  it('records the API requests by route pattern, method and status', async () => {
    const count = (route: string, method: string, status: string) =>
      prometheus.value(`sum(kbflow_http_request_duration_seconds_count{service="api",route="${route}",method="${method}",status="${status}"})`);
    expect(await count('/v1/crawl', 'POST', '202')).toBe(1);
    expect(await count('/v1/query', 'POST', '200')).toBe(1);
    expect(await count('/v1/tasks/:id', 'GET', '200')).toBe(taskPolls);
    // Raw paths never become label values.
    const routes = Object.keys(await byLabel('sum by (route) (kbflow_http_request_duration_seconds_count)', 'route'));
    expect(routes.filter((r) => /[0-9a-f]{8}-[0-9a-f]{4}/.test(r))).toEqual([]);
  });

  it('times one HTTP fetch per discovered page: 2xx for stored pages, 4xx for the missing one, no browser', async () => {
    // engine-router.ts observes every fetch. In auto mode each page goes
    // through HTTP once; a 404 is permanent (no browser retry) and observed
    // as 4xx; no page of the tutorial looks rendered by JavaScript.
    expect(await byLabel('sum by (status) (kbflow_scrape_duration_seconds_count{service="scraper",engine="http"})', 'status')).toEqual({
      '2xx': task.progress.discovered - task.progress.failed,
      '4xx': task.progress.failed,
    });
    expect(await prometheus.value('sum(kbflow_scrape_duration_seconds_count{engine="browser"})')).toBe(0);
    expect(await prometheus.value('sum(kbflow_scrape_duration_seconds_count)')).toBe(task.progress.discovered);
  });

  it('times vector-store writes in the embedder (one upsert per batch of waiting embed jobs) and searches in the aggregator', async () => {
    const count = (service: string, operation: string) =>
      prometheus.value(`sum(kbflow_vector_operation_duration_seconds_count{service="${service}",store="lancedb",operation="${operation}",outcome="ok"})`);
    // ChunkBatcher writes the vectors of the jobs waiting together in one
    // upsert: at least one write, never more than one per job.
    const upserts = await count('embedder', 'upsert');
    expect(upserts).toBeGreaterThanOrEqual(1);
    expect(upserts).toBeLessThanOrEqual(embedJobs);
    expect(await count('aggregator', 'search')).toBe(1);
    expect(await prometheus.value('sum(kbflow_vector_operation_duration_seconds_count{operation="upsert"})')).toBeGreaterThan(0);
    expect(await prometheus.value('sum(kbflow_vector_operation_duration_seconds_count{operation="search"})')).toBeGreaterThan(0);
    expect(await prometheus.query('kbflow_vector_operation_duration_seconds_count{outcome="error"}')).toEqual([]);
  });

  it('exposes process metrics of all five services, and every kbflow series names its service', async () => {
    const memory = await prometheus.query('process_resident_memory_bytes');
    expect(memory.map((s) => s.metric.service).sort()).toEqual([...ALL_SERVICES].sort());
    expect(memory.every((s) => s.value > 10 * 1024 * 1024)).toBe(true);
    // The `service` label set by createMetrics matches the target that exposed the series.
    expect(await prometheus.query('{__name__=~"kbflow_.+", service=""}')).toEqual([]);
    const instanceOf = Object.fromEntries(ALL_SERVICES.map((name) => [`127.0.0.1:${stack.services.get(name)!.metricsPort}`, name]));
    const series = await prometheus.query('count by (__name__, service, instance) ({__name__=~"kbflow_.+"})');
    expect(series.filter((s) => instanceOf[s.metric.instance!] !== s.metric.service)).toEqual([]);
    expect(new Set(series.map((s) => s.metric.service))).toEqual(new Set(ALL_SERVICES));
  });

  it("publishes the maintenance service's scheduled health check: every dependency up", async () => {
    expect(await byLabel('kbflow_dependency_up{service="maintenance"}', 'dependency')).toEqual({ postgres: 1, redis: 1, 'vector-store': 1 });
    // Job schedulers run once at start, then every 15 min (health check) and
    // 10 min (compaction), far longer than this test; the finished crawl asks
    // for one more compaction (complete.processor.ts).
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="maintenance",job_name="health-check",outcome="completed"})')).toBe(1);
    expect(await prometheus.value('sum(kbflow_jobs_total{queue="maintenance",job_name="compact-vector-store",outcome="completed"})')).toBe(2);
    expect(await prometheus.value('sum(kbflow_vector_operation_duration_seconds_count{service="maintenance",operation="compact",outcome="ok"})')).toBe(2);
  });
});
