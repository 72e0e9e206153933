import path from 'node:path';
import { SHARED_DATA } from '@kbflow/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deleteKeys, type BenchContext } from '../context.ts';
import { ratioOf, type BenchmarkResult, type Figure } from '../report/types.ts';
import { startSiteProcess, type SiteProcess } from '../site-server.ts';
import { summarize } from '../stats.ts';
import { crawleeCrawlInProcess as crawleeCrawl } from './crawlee-crawl.ts';
import { memoryBreakdown, memoryNote } from './memory-figures.ts';

const CORPUS = path.join(SHARED_DATA, 'docs-corpus/python-3.11-html');
/** The scraper's default KBFLOW_WORKER_CONCURRENCY, given to Crawlee too. */
export const CRAWL_CONCURRENCY = 8;
/**
 * Each crawl covers a complete link neighbourhood (no page cap), so both
 * crawlers fetch exactly the same pages: a cap would let each pick a
 * different subset, and page sizes in this corpus vary from 5 KB to 2.5 MB.
 */
const TUTORIAL = { seed: '/tutorial/index.html', maxDepth: 1 }; // 28 pages
const WHOLE_CORPUS = { seed: '/index.html', maxDepth: 5 }; // all 526 reachable pages
const ONE_PAGE = { seed: '/tutorial/index.html', maxDepth: 0 };
const QUICK = { warmUp: ONE_PAGE, measured: TUTORIAL, runs: 1 };
/** Two runs, not three: a kbflow crawl of the corpus takes about two minutes on two shared cores. */
const FULL = { warmUp: ONE_PAGE, measured: WHOLE_CORPUS, runs: 2 };
const MAX_PAGES = 1000;
const POLL_MS = 100;

interface KbflowRun {
  pages: number;
  failed: number;
  skipped: number;
  scrapedSeconds: number;
  completedSeconds: number;
}

/**
 * One crawl through the API, timed by polling the task's page rows in
 * PostgreSQL every 100 ms: "scraped" when no page is left undiscovered-only
 * (every page fetched, extracted, stored and chunked; a page's links are
 * claimed before its status changes, so none can appear later), "completed"
 * when the task is (every chunk embedded and in the vector store).
 */
async function kbflowCrawl(apiUrl: string, databaseUrl: string, seed: string, maxDepth: number, knowledgeBase: string): Promise<KbflowRun> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const started = performance.now();
    const res = await fetch(`${apiUrl}/v1/crawl`, {
      method: 'POST',
      headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
      body: JSON.stringify({ url: seed, maxPages: MAX_PAGES, maxDepth, engine: 'http', knowledgeBase }),
    });
    if (res.status !== 202) throw new Error(`POST /v1/crawl answered ${res.status}: ${await res.text()}`);
    const { taskId } = (await res.json()) as { taskId: string };
    let scrapedSeconds: number | undefined;
    for (;;) {
      const { rows } = await db.query<{ state: string; pending: string; pages: string; failed: string; skipped: string }>(
        `SELECT t.state,
                count(p.id) FILTER (WHERE p.status = 'discovered') AS pending,
                count(p.id) FILTER (WHERE p.status IN ('scraped', 'embedded')) AS pages,
                count(p.id) FILTER (WHERE p.status = 'failed') AS failed,
                count(p.id) FILTER (WHERE p.status = 'skipped') AS skipped
         FROM tasks t LEFT JOIN task_pages p ON p.task_id = t.id WHERE t.id = $1 GROUP BY t.state`,
        [taskId],
      );
      const row = rows[0]!;
      const elapsed = (performance.now() - started) / 1000;
      if (scrapedSeconds === undefined && Number(row.pending) === 0) scrapedSeconds = elapsed;
      if (row.state === 'completed' || row.state === 'failed') {
        if (row.state === 'failed') throw new Error(`crawl task ${taskId} failed`);
        return { pages: Number(row.pages), failed: Number(row.failed), skipped: Number(row.skipped), scrapedSeconds: scrapedSeconds ?? elapsed, completedSeconds: elapsed };
      }
      if (elapsed > 900) throw new Error(`crawl task ${taskId} not completed after 900 s`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await db.end();
  }
}

/** Sum and count of a Prometheus histogram's series matching `filter`. */
function histogram(metrics: string, name: string, filter: string): { sum: number; count: number } {
  const read = (suffix: string) =>
    metrics
      .split('\n')
      .filter((l) => l.startsWith(`${name}_${suffix}{`) && l.includes(filter))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  return { sum: read('sum'), count: read('count') };
}

/** Where a scrape job's time goes, from the scraper's own metrics (every crawl of this benchmark). */
async function scraperTimes(port: number): Promise<string> {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const job = histogram(metrics, 'kbflow_job_duration_seconds', 'job_name="scrape-page"');
  const fetchTime = histogram(metrics, 'kbflow_scrape_duration_seconds', 'engine="http"');
  if (job.count === 0 || fetchTime.count === 0) return 'The scraper reported no job timings.';
  const jobMs = (job.sum / job.count) * 1000;
  const fetchMs = (fetchTime.sum / fetchTime.count) * 1000;
  return (
    `kbflow's scraper, per page (its metrics, ${job.count} jobs): ${jobMs.toFixed(0)} ms per scrape job on average, of which ${fetchMs.toFixed(0)} ms fetching; ` +
    `the other ${((1 - fetchMs / jobMs) * 100).toFixed(0)} % is extraction (a DOM per page for Readability, then Markdown), chunking, the PostgreSQL writes and enqueueing, ` +
    `in one process sharing two cores with the other services.`
  );
}

/**
 * Crawl throughput: pages/s on the Python 3.11 documentation served on
 * 127.0.0.1, kbflow (api + scraper + embedder + aggregator processes, HTTP
 * engine) against Crawlee's CheerioCrawler on the same pages with the same
 * concurrency, link rules and depth. Runs alternate; each kbflow run writes a
 * knowledge base of its own with a cold embedding cache, so nothing is
 * skipped as unchanged.
 */
export async function crawlThroughput(ctx: BenchContext): Promise<BenchmarkResult> {
  const started = Date.now();
  const plan = ctx.quick ? QUICK : FULL;
  const { runs, measured: scope, warmUp } = plan;
  let site: SiteProcess | undefined;
  const prefix = ctx.prefix('crawl');
  const databaseUrl = await ctx.database('crawl');
  const stack = await ctx.startStack('crawl', ['api', 'scraper', 'embedder', 'aggregator', 'maintenance'], {
    DATABASE_URL: databaseUrl,
    KBFLOW_QUEUE_PREFIX: prefix,
    KBFLOW_LANCEDB_DIR: await ctx.tempDir('crawl-lance'),
  });
  const redis = new Redis(ctx.redisUrl);
  try {
    site = await startSiteProcess(CORPUS);
    const seed = `${site.url}${scope.seed}`;
    const crawleeDir = await ctx.tempDir('crawlee');
    ctx.say(`crawl: warm-up (${warmUp.seed}, depth ${warmUp.maxDepth})`);
    await kbflowCrawl(stack.stack.apiUrl, databaseUrl, `${site.url}${warmUp.seed}`, warmUp.maxDepth, 'warm-up');
    await crawleeCrawl({ seed: `${site.url}${warmUp.seed}`, maxPages: MAX_PAGES, maxDepth: warmUp.maxDepth, concurrency: CRAWL_CONCURRENCY, storageDir: crawleeDir });
    stack.memory.phase('crawl');
    const kb: KbflowRun[] = [];
    const crawlee: { pages: number; failed: number; seconds: number; textChars: number }[] = [];
    for (let i = 0; i < runs; i++) {
      await deleteKeys(redis, `${prefix}:emb:*`);
      kb.push(await kbflowCrawl(stack.stack.apiUrl, databaseUrl, seed, scope.maxDepth, `run-${i}`));
      crawlee.push(await crawleeCrawl({ seed, maxPages: MAX_PAGES, maxDepth: scope.maxDepth, concurrency: CRAWL_CONCURRENCY, storageDir: crawleeDir }));
      const k = kb.at(-1)!;
      const c = crawlee.at(-1)!;
      ctx.say(
        `crawl: run ${i + 1}/${runs}: kbflow ${k.pages} pages scraped in ${k.scrapedSeconds.toFixed(1)} s, completed with embeddings in ${k.completedSeconds.toFixed(1)} s; ` +
          `Crawlee ${c.pages} pages in ${c.seconds.toFixed(1)} s`,
      );
    }
    stack.memory.phase('after');
    const memoryKinds = await memoryBreakdown(stack.stack.services, 'right after the last crawl completed');
    const perPage = await scraperTimes(stack.stack.services.get('scraper')!.port);
    const baseline = { label: `Crawlee CheerioCrawler (page text)`, value: summarize(crawlee.map((c) => c.pages / c.seconds)), measured: true };
    const scraped: Figure = {
      key: 'crawl.pages-per-s.scraped',
      label: 'pages/s, all pages scraped',
      unit: 'pages/s',
      better: 'higher',
      value: summarize(kb.map((k) => k.pages / k.scrapedSeconds)),
      baseline,
    };
    const ratio = ratioOf(scraped)!;
    scraped.target = { text: '≥ 1.5x Crawlee', met: ratio >= 1.5, ...(ratio >= 1.5 ? {} : { gap: `${ratio.toFixed(2)}x: ${((1.5 / ratio - 1) * 100).toFixed(0)} % more pages/s needed` }) };
    const completed: Figure = {
      key: 'crawl.pages-per-s.completed',
      label: 'pages/s, task completed with embeddings',
      unit: 'pages/s',
      better: 'higher',
      value: summarize(kb.map((k) => k.pages / k.completedSeconds)),
      baseline,
    };
    const memory = stack.memory.summary();
    return {
      name: 'crawl',
      title: 'Crawl throughput',
      method:
        `The Python 3.11 documentation (${CORPUS.split('/').slice(-2).join('/')}) served by startStaticServer on 127.0.0.1 from a process of its own; crawl from ${scope.seed}, ` +
        `same origin, depth ≤ ${scope.maxDepth}, no page cap (every page of that neighbourhood). kbflow: POST /v1/crawl with engine http to the five real service processes (api, scraper, embedder, ` +
        `aggregator and maintenance, which compacts the vector store after each crawl; scraper concurrency ${CRAWL_CONCURRENCY}, offline embedder, LanceDB), timed until no page is waiting to be scraped ` +
        `and until the task is completed (every chunk embedded), polling PostgreSQL every ${POLL_MS} ms. Baseline: Crawlee's CheerioCrawler in a ` +
        `process of its own, concurrency fixed at ${CRAWL_CONCURRENCY}, the same link filter and depth, extracting the body text. ` +
        `${runs} alternating run(s) each after a warm-up crawl of ${warmUp.seed} (depth ${warmUp.maxDepth}); pages counted are HTML pages stored (kbflow) or handled (Crawlee).`,
      figures: [scraped, completed],
      notes: [
        `Pages per run: kbflow ${kb.map((k) => `${k.pages} (+${k.failed} failed, ${k.skipped} not HTML)`).join(', ')}; Crawlee ${crawlee.map((c) => `${c.pages} (+${c.failed} failed)`).join(', ')}.`,
        `Work per page differs: kbflow extracts the main content (linkedom DOM, Readability) to Markdown, chunks it, stores document and chunks in PostgreSQL ` +
          `with a content hash, records page progress and enqueues embedding flows; Crawlee parses with Cheerio and reads the body text in memory.`,
        perPage,
        memoryNote(memory, 'crawl'),
        memoryKinds,
      ],
      details: { kbflow: kb, crawlee, memory },
      durationMs: Date.now() - started,
    };
  } finally {
    redis.disconnect();
    await site?.close();
    await stack.stop();
  }
}
