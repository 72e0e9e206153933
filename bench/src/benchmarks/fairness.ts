import type { BenchContext } from '../context.ts';
import { CRAWL_CORPORA, requireData } from '../data/corpora.ts';
import { ratioOf, type BenchmarkResult, type Figure } from '../report/types.ts';
import { startSiteProcess, type SiteProcess } from '../site-server.ts';
import { summarize } from '../stats.ts';

const ADMIN_KEY = 'bench-admin-key';
const A_PAGES = 500;
const B_PAGES = 20;
/** Tenant A's queued scrape jobs before B submits: B competes with a real backlog, not with A's first pages. */
const A_BACKLOG = 150;
const POLL_MS = 100;
/** Issue 12: B's small crawl within 3x its idle time. */
const TARGET_RATIO = 3;

interface Crawl {
  taskId: string;
  started: number;
}

/** A tenant of the enterprise tier and a key of it, through the admin API. */
async function tenantKey(apiUrl: string, name: string): Promise<string> {
  const headers = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
  const tenant = await fetch(`${apiUrl}/v1/admin/tenants`, { method: 'POST', headers, body: JSON.stringify({ name, tier: 'enterprise' }) });
  if (tenant.status !== 201) throw new Error(`POST /v1/admin/tenants answered ${tenant.status}: ${await tenant.text()}`);
  const { id } = (await tenant.json()) as { id: string };
  const key = await fetch(`${apiUrl}/v1/admin/tenants/${id}/keys`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: 'bench', scopes: ['read', 'write'] }),
  });
  if (key.status !== 201) throw new Error(`POST /v1/admin/tenants/:id/keys answered ${key.status}: ${await key.text()}`);
  return ((await key.json()) as { key: string }).key;
}

async function submit(apiUrl: string, key: string, site: SiteProcess, seed: string, maxPages: number, knowledgeBase: string): Promise<Crawl> {
  const started = performance.now();
  const res = await fetch(`${apiUrl}/v1/crawl`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${site.url}${seed}`, maxPages, maxDepth: 10, engine: 'http', knowledgeBase }),
  });
  if (res.status !== 202) throw new Error(`POST /v1/crawl answered ${res.status}: ${await res.text()}`);
  return { taskId: ((await res.json()) as { taskId: string }).taskId, started };
}

async function task(apiUrl: string, key: string, taskId: string): Promise<{ state: string; progress: Record<string, number> }> {
  return (await (await fetch(`${apiUrl}/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${key}` } })).json()) as never;
}

/** Seconds from the POST until the task reads completed (every chunk embedded and searchable). */
async function finish(apiUrl: string, key: string, crawl: Crawl): Promise<number> {
  for (;;) {
    const t = await task(apiUrl, key, crawl.taskId);
    const seconds = (performance.now() - crawl.started) / 1000;
    if (t.state === 'failed') throw new Error(`crawl task ${crawl.taskId} failed`);
    if (t.state === 'completed') return seconds;
    if (seconds > 900) throw new Error(`crawl task ${crawl.taskId} not completed after 900 s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Scrape jobs waiting to run, every tenant's (the admin view of GET /v1/queues). */
async function queuedScrapes(apiUrl: string): Promise<number> {
  const res = await fetch(`${apiUrl}/v1/queues`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const body = (await res.json()) as { queues: { name: string; counts: Record<string, number> }[] };
  const scrape = body.queues.find((q) => q.name === 'scrape');
  return (scrape?.counts.prioritized ?? 0) + (scrape?.counts.waiting ?? 0);
}

/**
 * Fair scheduling across tenants (issue 12 item 3): tenant B's 20-page
 * crawl on the idle system (run by B's twin, a tenant of the same tier, so
 * that B's own embedding cache does not make the second crawl cheaper),
 * then tenant A's 500-page crawl and, once A's pages fill the scrape
 * queue, B's same 20-page crawl behind it. Each crawl has a site process
 * (a host) of its own, serving the same SQLite pages, so that per-host
 * politeness never couples them. `--quick`: one run instead of two.
 */
export async function fairness(ctx: BenchContext): Promise<BenchmarkResult> {
  const started = Date.now();
  const corpus = CRAWL_CORPORA.find((c) => c.name === 'sqlite-3.40-html')!;
  requireData(corpus.root, 'fairness');
  const runs = ctx.quick ? 1 : 2;
  const stack = await ctx.startStack('fairness', ['api', 'scraper', 'embedder', 'aggregator'], {
    DATABASE_URL: await ctx.database('fairness'),
    KBFLOW_QUEUE_PREFIX: ctx.prefix('fairness'),
    KBFLOW_LANCEDB_DIR: await ctx.tempDir('fairness-lance'),
  });
  const sites = await Promise.all([0, 1, 2].map(() => startSiteProcess(corpus.root)));
  const [siteA, siteIdle, siteBusy] = sites as [SiteProcess, SiteProcess, SiteProcess];
  const api = stack.stack.apiUrl;
  try {
    const [keyA, keyB, keyTwin] = [await tenantKey(api, 'bench-fair-a'), await tenantKey(api, 'bench-fair-b'), await tenantKey(api, 'bench-fair-b-twin')];
    const idle: number[] = [];
    const busy: number[] = [];
    const bigCrawl: number[] = [];
    const progressAtB: Record<string, number>[] = [];
    for (let i = 0; i < runs; i++) {
      const kb = `fair-${i}`;
      stack.memory.phase('idle small crawl');
      idle.push(await finish(api, keyTwin, await submit(api, keyTwin, siteIdle, corpus.seed, B_PAGES, kb)));
      stack.memory.phase('small crawl behind a backlog');
      const a = await submit(api, keyA, siteA, corpus.seed, A_PAGES, kb);
      const deadline = Date.now() + 120_000;
      while ((await queuedScrapes(api)) < A_BACKLOG) {
        if (Date.now() > deadline) throw new Error(`tenant A queued fewer than ${A_BACKLOG} scrape jobs in 120 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
      busy.push(await finish(api, keyB, await submit(api, keyB, siteBusy, corpus.seed, B_PAGES, kb)));
      progressAtB.push((await task(api, keyA, a.taskId)).progress);
      bigCrawl.push(await finish(api, keyA, a));
      ctx.say(
        `fairness: run ${i + 1}/${runs}: B's ${B_PAGES}-page crawl ${idle.at(-1)!.toFixed(1)} s idle, ${busy.at(-1)!.toFixed(1)} s behind A's ${A_PAGES}-page crawl ` +
          `(A had scraped ${progressAtB.at(-1)!.scraped ?? 0} pages when B finished; A completed in ${bigCrawl.at(-1)!.toFixed(1)} s)`,
      );
    }
    const figure: Figure = {
      key: 'fairness.sqlite-3.40-html.small-crawl.seconds.behind-backlog',
      label: `tenant B: seconds to complete a ${B_PAGES}-page crawl behind tenant A's ${A_PAGES}-page crawl`,
      unit: 's',
      better: 'lower',
      value: summarize(busy),
      baseline: { label: 'the same crawl on the idle system, same run', value: summarize(idle), measured: true },
    };
    const ratio = ratioOf(figure)!;
    figure.target = {
      text: `≤ ${TARGET_RATIO}x its idle time`,
      met: ratio <= TARGET_RATIO,
      ...(ratio <= TARGET_RATIO ? {} : { gap: `${ratio.toFixed(2)}x its idle time` }),
    };
    return {
      name: 'fairness',
      title: 'Fair scheduling across tenants',
      method:
        `The SQLite 3.40 documentation served by three site processes on 127.0.0.1 (a host per crawl); api, scraper, embedder and aggregator processes; three enterprise tenants made through the admin API. ` +
        `Per run: B's twin crawls ${B_PAGES} pages from ${corpus.seed} on the idle system; then A submits a ${A_PAGES}-page crawl and, once at least ${A_BACKLOG} scrape jobs wait, B submits the same ${B_PAGES}-page crawl. ` +
        `Each timed from the POST to the task's completed, polling every ${POLL_MS} ms; ${runs} run(s), a knowledge base per run.`,
      figures: [figure],
      notes: [
        `B behind the backlog took ${ratio.toFixed(2)}x its idle time (medians ${figure.value.median.toFixed(1)} s and ${figure.baseline!.value.median.toFixed(1)} s). ` +
          `A had scraped ${progressAtB.map((p) => p.scraped ?? 0).join(', ')} of its ${A_PAGES} pages when B finished, so B did not wait for A's backlog; A's crawl took ${bigCrawl.map((s) => s.toFixed(1)).join(', ')} s.`,
      ],
      details: { idle, busy, bigCrawl, progressAtB },
      durationMs: Date.now() - started,
    };
  } finally {
    await Promise.all(sites.map((s) => s.close()));
    await stack.stop();
  }
}
