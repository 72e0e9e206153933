import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { createRedis, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import {
  artifactDir,
  SHARED_DATA,
  startFakeOpenAI,
  startService,
  startE2eStack,
  startStaticServer,
  testRedisUrl,
  type FakeOpenAI,
  type ServiceProcess,
  type Stack,
  type StaticServer,
  type E2eStack,
  apiClient,
} from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import type { Queue } from 'bullmq';
import { measureThroughput, waitFor, type Throughput } from './support/scaling-meter.ts';

// "During a large ingestion, go from 1 to 3 embedder processes: throughput
// rises and /v1/workers shows 3; SIGTERM two of them: nothing is lost."
// The embedding provider is a real HTTP server that answers each request
// PROVIDER_DELAY_MS late, and each embedder runs one job at a time, so an
// embedder spends its time waiting on the provider and a second and third
// process add capacity even on a two-core machine.
const CORPUS = path.join(SHARED_DATA, 'docs-corpus/python-3.11-html');
const KEY = 'scaling-dev-key';
const MAX_PAGES = 150;
const MAX_DEPTH = 5;
const PROVIDER_DELAY_MS = 1000;
const DIMENSIONS = 384;
const WINDOW_MS = 10_000;
const LOG_DIR = artifactDir('ops-scaling');
// The seed links to the docs' index and to two pages that do not exist. Its
// own links are claimed first, so the crawl always meets those two 404s,
// which must be counted as failed and must not hold the task back.
const SEED = '/scaling-seed.html';
const MISSING = ['/no-such-page.html', '/library/no-such-module.html'];
const SEED_PAGE = `<!doctype html><html><head><title>Scaling seed</title></head><body><main>
<h1>Scaling seed</h1><p>Where the crawl of the Python documentation starts.</p>
<ul><li><a href="/index.html">Python documentation</a></li>${MISSING.map((m) => `<li><a href="${m}">${m}</a></li>`).join('')}</ul>
</main></body></html>`;

let e2e: E2eStack;
let db: Db;
let site: StaticServer;
let provider: FakeOpenAI;
let stack: Stack;
let redis: Redis;
let producer: JobProducer;
let embedQueue: Queue;
let embedderEnv: Record<string, string>;
/** Embedder processes in start order; the first one stays. */
const embedders: ServiceProcess[] = [];
let taskId: string;
let oneEmbedder: Throughput;
let threeEmbedders: Throughput;

const ADMIN_KEY = 'scaling-admin-key';
const client = apiClient(() => stack.apiUrl, KEY);
const api = client.call;
// Hosts and pids of replicas are for the admin key (issue 12 item 4).
const admin = apiClient(() => stack.apiUrl, ADMIN_KEY).call;

async function workers(): Promise<{ services: Record<string, number>; workers: { service: string; pid: number; concurrency: Record<string, number> }[] }> {
  return (await admin('GET', '/v1/workers')).json;
}

function report(line: string): void {
  process.stdout.write(`[scaling] ${line}\n`);
}

beforeAll(async () => {
  site = await startStaticServer(CORPUS, { [SEED]: SEED_PAGE });
  provider = await startFakeOpenAI({ dimensions: DIMENSIONS });
  provider.setFault({ delayMs: PROVIDER_DELAY_MS });
  e2e = await startE2eStack('scaling', {
    services: ['api', 'scraper', 'aggregator', 'maintenance'],
    logDir: LOG_DIR,
    env: {
      KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true',
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: ADMIN_KEY,
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: provider.url,
      KBFLOW_EMBEDDING_MODEL: 'text-embedding-3-small',
      KBFLOW_EMBEDDING_DIMENSIONS: String(DIMENSIONS),
    },
  });
  stack = e2e.stack;
  db = createDb(e2e.database.url);
  // One job at a time per embedder process: capacity is the number of processes.
  embedderEnv = { ...e2e.env, KBFLOW_WORKER_CONCURRENCY: '1' };
  embedders.push(await startService('embedder', embedderEnv, { logDir: LOG_DIR, instance: 1 }));
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, e2e.prefix);
  embedQueue = producer.queue(QueueName.embed);
}, 120_000);

afterAll(async () => {
  await Promise.all(embedders.map((e) => e.stop('SIGTERM')));
  await producer?.close();
  await redis?.quit();
  await db?.$disconnect();
  await e2e?.teardown();
  await provider?.close();
  await site?.close();
}, 90_000);

describe('scaling the embedder during a large ingestion', () => {
  it('with one embedder, embedding runs at the pace of one provider request at a time', async () => {
    expect((await workers()).services.embedder).toBe(1);
    const res = await api('POST', '/v1/crawl', { url: `${site.url}${SEED}`, maxPages: MAX_PAGES, maxDepth: MAX_DEPTH });
    expect(res.status).toBe(202);
    taskId = res.json.taskId;

    // Measure once every page is scraped: the scraper then no longer competes
    // for the two cores, and the embed backlog is as large as it gets.
    await waitFor(
      'every page to be scraped',
      async () => {
        const { json } = await api('GET', `/v1/tasks/${taskId}`);
        const { discovered, scraped, skipped, failed } = json.progress;
        return discovered === MAX_PAGES && scraped + skipped + failed === discovered ? true : undefined;
      },
      90_000,
      500,
    );
    oneEmbedder = await measureThroughput(embedQueue, WINDOW_MS);
    report(
      `1 embedder: ${oneEmbedder.completed} embed jobs in ${oneEmbedder.seconds.toFixed(1)} s = ${oneEmbedder.perSecond.toFixed(2)}/s, backlog after ${oneEmbedder.backlogAfter}`,
    );

    expect(oneEmbedder.backlogAfter).toBeGreaterThan(0);
    expect(oneEmbedder.completed).toBeGreaterThan(0);
    // One process with concurrency 1 holds one provider request at a time,
    // and each takes at least the provider's delay.
    expect(oneEmbedder.perSecond).toBeLessThanOrEqual((1000 / PROVIDER_DELAY_MS) * 1.1);
  }, 90_000);

  it('with three embedder processes, /v1/workers shows 3 and embedding throughput rises', async () => {
    embedders.push(...(await Promise.all([2, 3].map((instance) => startService('embedder', embedderEnv, { logDir: LOG_DIR, instance })))));
    const listed = await waitFor(
      'three embedders in /v1/workers',
      async () => {
        const now = await workers();
        return now.services.embedder === 3 ? now : undefined;
      },
      20_000,
    );
    const listedEmbedders = listed.workers.filter((w) => w.service === 'embedder');
    expect(listedEmbedders.map((w) => w.pid).sort()).toEqual(embedders.map((e) => e.process.pid).sort());
    expect(listedEmbedders.every((w) => w.concurrency.embed === 1)).toBe(true);

    threeEmbedders = await measureThroughput(embedQueue, WINDOW_MS);
    const ratio = threeEmbedders.perSecond / oneEmbedder.perSecond;
    report(
      `3 embedders: ${threeEmbedders.completed} embed jobs in ${threeEmbedders.seconds.toFixed(1)} s = ${threeEmbedders.perSecond.toFixed(2)}/s, backlog after ${threeEmbedders.backlogAfter}; ratio ${ratio.toFixed(2)}`,
    );

    // The window measured capacity only if the embedders never ran out of work.
    expect(threeEmbedders.backlogAfter).toBeGreaterThan(0);
    expect(ratio).toBeGreaterThan(2);
  }, 90_000);

  it('SIGTERM to two embedders holding jobs: both drain and exit 0, and nothing is lost', async () => {
    // Every embedder holds a job (one each) at the moment the signal goes out.
    const held = await waitFor(
      'three active embed jobs',
      async () => {
        const active = await embedQueue.getActive();
        return active.length === 3 ? active.map((j) => j.id!) : undefined;
      },
      10_000,
      20,
    );
    const leaving = embedders.slice(1);
    const signalled = performance.now();
    const exits = leaving.map((e) => e.stop('SIGTERM').then((code) => ({ code, ms: Math.round(performance.now() - signalled) })));
    // The requests in flight keep their delay; the rest of the backlog drains fast.
    provider.setFault(null);
    const exited = await Promise.all(exits);
    report(`SIGTERM: ${exited.map((e) => `exit ${e.code} after ${e.ms} ms`).join(', ')}`);
    // 0 is a drained exit: past KBFLOW_SHUTDOWN_TIMEOUT_MS the shutdown manager exits 1.
    expect(exited.map((e) => e.code)).toEqual([0, 0]);

    // Heartbeats are deleted on a graceful stop, not left to expire.
    const after = await workers();
    expect(after.services.embedder).toBe(1);
    expect(after.workers.filter((w) => w.service === 'embedder').map((w) => w.pid)).toEqual([embedders[0]!.process.pid]);

    const task = await waitFor(
      'the crawl to finish',
      async () => {
        const { json } = await api('GET', `/v1/tasks/${taskId}`);
        return json.state === 'completed' || json.state === 'failed' ? json : undefined;
      },
      120_000,
      500,
    );
    expect(task.state).toBe('completed');
    const { discovered, scraped, skipped, embedded, failed } = task.progress;
    report(`task progress ${JSON.stringify(task.progress)}`);
    expect(discovered).toBe(MAX_PAGES);
    // `scraped` counts every page stored, embedded or not.
    expect(scraped).toBe(embedded);
    expect(embedded + skipped + failed).toBe(discovered);

    // The only failures are links to pages the corpus does not have.
    const pages = await db.taskPage.findMany({ where: { taskId }, select: { url: true, status: true, error: true } });
    const missing = pages.filter((p) => {
      const pathname = decodeURIComponent(new URL(p.url).pathname);
      return pathname !== SEED && !existsSync(CORPUS + pathname);
    });
    expect(missing.map((p) => new URL(p.url).pathname)).toEqual(expect.arrayContaining(MISSING));
    const failedPages = pages.filter((p) => p.status === 'failed');
    expect(failedPages.map((p) => p.url).sort()).toEqual(missing.map((p) => p.url).sort());
    expect(failedPages.every((p) => /404/.test(p.error ?? ''))).toBe(true);
    expect(failed).toBe(missing.length);

    // Every chunk is indexed, and the vector store holds exactly those ids.
    const chunks = await db.chunk.findMany({ select: { id: true, indexed: true, tenantId: true } });
    expect(chunks.length).toBeGreaterThan(MAX_PAGES);
    expect(chunks.filter((c) => !c.indexed)).toEqual([]);
    const store = new LanceDbVectorStore({ dir: e2e.lanceDir, table: 'kbflow_chunks' });
    try {
      const ids = await store.listIds({ tenantId: chunks[0]!.tenantId });
      expect(ids.length).toBe(chunks.length);
      expect(new Set(ids)).toEqual(new Set(chunks.map((c) => c.id)));
    } finally {
      await store.close();
    }

    // Every embed job ran once and completed: the jobs held at SIGTERM were
    // finished by the processes that held them, not recovered as stalled.
    const jobs = await embedQueue.getJobs(['completed'], 0, -1);
    expect(jobs.map((j) => j.id)).toEqual(expect.arrayContaining(held));
    const counts = await embedQueue.getJobCounts('failed', 'active', 'waiting', 'prioritized', 'delayed');
    expect(counts).toEqual({ failed: 0, active: 0, waiting: 0, prioritized: 0, delayed: 0 });
    expect(jobs.filter((j) => j.attemptsStarted !== 1 || j.stalledCounter !== 0).map((j) => j.id)).toEqual([]);
    const chunkIdsInJobs = jobs.flatMap((j) => (j.data as { chunkIds: string[] }).chunkIds);
    expect(new Set(chunkIdsInJobs)).toEqual(new Set(chunks.map((c) => c.id)));
    expect(await producer.queue(QueueName.deadLetter).count()).toBe(0);
    report(`${jobs.length} embed jobs, ${chunks.length} chunks, ${provider.requests.filter((r) => r.path === '/v1/embeddings').length} provider requests`);
  }, 180_000);
});
