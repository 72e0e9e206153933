import { createRedis, JobProducer } from '@kbflow/queues';
import pg from 'pg';
import { deleteKeys, type BenchContext, type SampledStack } from '../context.ts';
import { CRAWL_CORPORA, headingQuestions, requireData, type Corpus } from '../data/corpora.ts';
import { ratioOf, type BenchmarkResult, type Figure } from '../report/types.ts';
import { startSiteProcess } from '../site-server.ts';
import { summarize } from '../stats.ts';
import { queriesOnCrawl } from './crawl-queries.ts';
import { crawleeCrawlInProcess as crawleeCrawl } from './crawlee-crawl.ts';
import { memoryBreakdown, memoryNote, peakMemoryFigures } from './memory-figures.ts';

/** The scraper's default KBFLOW_WORKER_CONCURRENCY, given to Crawlee too. */
const CRAWL_CONCURRENCY = 8;
/** Above every corpus's reachable URLs (SQLite: 1,184 with its dead links), so no crawl is cut. */
const MAX_PAGES = 2000;
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
        return {
          pages: Number(row.pages),
          failed: Number(row.failed),
          skipped: Number(row.skipped),
          scrapedSeconds: scrapedSeconds ?? elapsed,
          completedSeconds: elapsed,
        };
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
    `kbflow's scraper, per page (its metrics, ${job.count} jobs over the whole benchmark): ${jobMs.toFixed(0)} ms per scrape job on average, of which ${fetchMs.toFixed(0)} ms fetching; ` +
    `the other ${((1 - fetchMs / jobMs) * 100).toFixed(0)} % is extraction, chunking, the PostgreSQL writes and enqueueing, ` +
    `in one process sharing two cores with the other services.`
  );
}

const QUICK = { runs: 1, questions: 30, backlogJobs: 10_000 };
/** Two runs per corpus, not three: a kbflow crawl of a corpus takes one to two minutes on two shared cores. */
const FULL = { runs: 2, questions: 100, backlogJobs: 50_000 };

interface CorpusResult {
  figures: Figure[];
  notes: string[];
  details: Record<string, unknown>;
}

/**
 * One corpus: a warm-up crawl of the seed page alone by both crawlers, then
 * `runs` alternating crawls of the whole neighbourhood (kbflow first), each
 * kbflow run into a knowledge base of its own with a cold embedding cache,
 * then the query phase on the last kbflow crawl's index, the moment it
 * completed.
 */
async function crawlCorpus(
  ctx: BenchContext,
  corpus: Corpus,
  stack: SampledStack,
  databaseUrl: string,
  lanceDir: string,
  producer: JobProducer,
): Promise<CorpusResult> {
  const plan = ctx.quick ? QUICK : FULL;
  const key = corpus.name;
  const site = await startSiteProcess(corpus.root);
  const redis = createRedis(ctx.redisUrl);
  try {
    const questions = headingQuestions(corpus, 2 * plan.questions);
    const seed = `${site.url}${corpus.seed}`;
    const maxDepth = ctx.quick ? 1 : corpus.maxDepth;
    const crawleeDir = await ctx.tempDir('crawlee');
    ctx.say(`crawl ${key}: warm-up (${corpus.seed}, depth 0)`);
    const slug = key.replace(/[^a-z0-9]/g, '-');
    await kbflowCrawl(stack.stack.apiUrl, databaseUrl, seed, 0, `warm-${slug}`);
    await crawleeCrawl({ seed, maxPages: MAX_PAGES, maxDepth: 0, concurrency: CRAWL_CONCURRENCY, storageDir: crawleeDir });
    const kb: KbflowRun[] = [];
    const crawlee: { pages: number; failed: number; seconds: number; textChars: number }[] = [];
    let lastKnowledgeBase = '';
    for (let i = 0; i < plan.runs; i++) {
      await deleteKeys(redis, `${producer.prefix}:emb:*`);
      lastKnowledgeBase = `${slug}-run-${i}`;
      const last = i === plan.runs - 1;
      const runCrawlee = async () =>
        crawlee.push(await crawleeCrawl({ seed, maxPages: MAX_PAGES, maxDepth, concurrency: CRAWL_CONCURRENCY, storageDir: crawleeDir }));
      // The query phase must follow the last kbflow crawl at once, so the last
      // run puts Crawlee first (the order still alternates run by run).
      if (last) await runCrawlee();
      stack.memory.phase(`crawl, ${key}`);
      kb.push(await kbflowCrawl(stack.stack.apiUrl, databaseUrl, seed, maxDepth, lastKnowledgeBase));
      if (!last) await runCrawlee();
      const k = kb.at(-1)!;
      const c = crawlee.at(-1)!;
      ctx.say(
        `crawl ${key}: run ${i + 1}/${plan.runs}: kbflow ${k.pages} pages (+${k.failed} failed) scraped in ${k.scrapedSeconds.toFixed(1)} s, completed with embeddings in ${k.completedSeconds.toFixed(1)} s; ` +
          `Crawlee ${c.pages} pages (+${c.failed} failed) in ${c.seconds.toFixed(1)} s`,
      );
    }
    // Queries on the last kbflow crawl's index, from the moment its task completed.
    ctx.say(`crawl ${key}: queries on the crawl's index`);
    const queries = await queriesOnCrawl({
      stack,
      corpus,
      knowledgeBase: lastKnowledgeBase,
      databaseUrl,
      lanceDir,
      producer,
      questions: { idle: questions.slice(0, plan.questions), loaded: questions.slice(plan.questions) },
      backlogJobs: plan.backlogJobs,
    });
    const baseline = { label: 'Crawlee CheerioCrawler (page text)', value: summarize(crawlee.map((c) => c.pages / c.seconds)), measured: true };
    const scraped: Figure = {
      key: `crawl.${key}.pages-per-s.scraped`,
      label: `${key}: pages/s, all pages scraped`,
      unit: 'pages/s',
      better: 'higher',
      value: summarize(kb.map((k) => k.pages / k.scrapedSeconds)),
      baseline,
    };
    const completed: Figure = {
      key: `crawl.${key}.pages-per-s.completed`,
      label: `${key}: pages/s, crawl completed with every chunk embedded and searchable`,
      unit: 'pages/s',
      better: 'higher',
      value: summarize(kb.map((k) => k.pages / k.completedSeconds)),
      baseline,
    };
    for (const [figure, want] of [
      [scraped, 2],
      [completed, 1],
    ] as const) {
      const ratio = ratioOf(figure)!;
      figure.target = {
        text: `≥ ${want.toFixed(1)}x Crawlee`,
        met: ratio >= want,
        ...(ratio >= want ? {} : { gap: `${ratio.toFixed(2)}x: ${((want / ratio - 1) * 100).toFixed(0)} % more pages/s needed` }),
      };
    }
    return {
      figures: [scraped, completed, ...queries.figures],
      notes: [
        `${key} (${corpus.description}), crawl from ${corpus.seed}, depth ≤ ${maxDepth}: pages per run, kbflow ${kb.map((k) => `${k.pages} (+${k.failed} failed, ${k.skipped} not HTML)`).join(', ')}; ` +
          `Crawlee ${crawlee.map((c) => `${c.pages} (+${c.failed} failed)`).join(', ')}. ` +
          `URLs/s (pages and failures): kbflow scraped ${kb.map((k) => ((k.pages + k.failed + k.skipped) / k.scrapedSeconds).toFixed(1)).join(', ')}, completed ${kb.map((k) => ((k.pages + k.failed + k.skipped) / k.completedSeconds).toFixed(1)).join(', ')}; ` +
          `Crawlee ${crawlee.map((c) => ((c.pages + c.failed) / c.seconds).toFixed(1)).join(', ')}.`,
        ...queries.notes,
      ],
      details: { kbflow: kb, crawlee, queries: queries.details },
    };
  } finally {
    redis.disconnect();
    await site.close();
  }
}

/**
 * Crawl throughput on each corpus of {@link CRAWL_CORPORA} served on
 * 127.0.0.1: kbflow (api, scraper, embedder and aggregator processes, HTTP
 * engine) against Crawlee's CheerioCrawler on the same pages with the same
 * concurrency, link rules and depth, runs alternating; then queries on the
 * index the last kbflow crawl produced. No maintenance process runs: no
 * compaction schedule and no autovacuum (off on this PostgreSQL) helps the
 * queries. A corpus missing from ../shared/data is skipped with one line.
 */
export async function crawlThroughput(ctx: BenchContext): Promise<BenchmarkResult> {
  const started = Date.now();
  const available = CRAWL_CORPORA.filter((c) => {
    try {
      requireData(c.root, `crawl ${c.name}`);
      return true;
    } catch (error) {
      ctx.say((error as Error).message);
      return false;
    }
  });
  const skipped = CRAWL_CORPORA.filter((c) => !available.includes(c)).map((c) => `${c.name}: not measured, ${c.root} is not there.`);
  if (available.length === 0) requireData(CRAWL_CORPORA[0]!.root, 'crawl');
  const prefix = ctx.prefix('crawl');
  const databaseUrl = await ctx.database('crawl');
  const lanceDir = await ctx.tempDir('crawl-lance');
  const stack = await ctx.startStack('crawl', ['api', 'scraper', 'embedder', 'aggregator'], {
    DATABASE_URL: databaseUrl,
    KBFLOW_QUEUE_PREFIX: prefix,
    KBFLOW_LANCEDB_DIR: lanceDir,
  });
  const producerRedis = createRedis(ctx.redisUrl);
  const producer = new JobProducer(producerRedis, prefix);
  try {
    const results: CorpusResult[] = [];
    for (const corpus of available) results.push(await crawlCorpus(ctx, corpus, stack, databaseUrl, lanceDir, producer));
    stack.memory.phase('after');
    const memoryKinds = await memoryBreakdown(stack.stack.services, 'right after the last query phase');
    const perPage = await scraperTimes(stack.stack.services.get('scraper')!.port);
    const memory = stack.memory.summary();
    const phases = Object.keys(memory).filter((p) => p !== 'start' && p !== 'after');
    return {
      name: 'crawl',
      title: 'Crawl throughput and queries on the crawled index',
      method:
        `Each corpus served by startStaticServer on 127.0.0.1 from a process of its own; crawl from the seed, same origin, no page cap (every page of that neighbourhood). ` +
        `kbflow: POST /v1/crawl with engine http to the api, scraper, embedder and aggregator processes (scraper concurrency ${CRAWL_CONCURRENCY}, offline embedder, LanceDB; ` +
        `no maintenance process, so no scheduled compaction), timed until no page is waiting to be scraped and until the task is completed (every chunk embedded and searchable), ` +
        `polling PostgreSQL every ${POLL_MS} ms. Baseline: Crawlee's CheerioCrawler in a process of its own, concurrency fixed at ${CRAWL_CONCURRENCY}, the same link filter and depth, ` +
        `extracting the body text. Runs alternate (kbflow, Crawlee) after a warm-up crawl of the seed page; pages counted are HTML pages stored (kbflow) or handled (Crawlee). ` +
        `Then queries on the last kbflow crawl's index, from the moment its task completed (see the notes). Resident memory of every service per phase (VmRSS every 500 ms).`,
      figures: [...results.flatMap((r) => r.figures), ...peakMemoryFigures('crawl', memory, phases)],
      notes: [...skipped, ...results.flatMap((r) => r.notes), perPage, ...phases.map((p) => memoryNote(memory, p)), memoryKinds],
      details: { corpora: available.map((c) => c.name), results: results.map((r) => r.details), memory },
      durationMs: Date.now() - started,
    };
  } finally {
    await producer.close();
    producerRedis.disconnect();
    await stack.stop();
  }
}
