import { QueueName, type JobProducer } from '@kbflow/queues';
import { DEFAULT_VECTOR_COLLECTION, LanceDbVectorStore } from '@kbflow/vector-store';
import pg from 'pg';
import type { SampledStack } from '../context.ts';
import type { Corpus } from '../data/corpora.ts';
import { fmt } from '../report/markdown.ts';
import type { Figure } from '../report/types.ts';
import { single } from '../stats.ts';
import { backlogOf, enqueueBacklog } from './backlog.ts';
import { runSeries, type SeriesResult } from './query-client.ts';

const P50_TARGET_MS = 20;
const P99_TARGET_MS = 60;
const P99_BACKLOG_TARGET_MS = 50;

/** What {@link queriesOnCrawl} measured. */
export interface CrawlQueryResult {
  figures: Figure[];
  notes: string[];
  details: Record<string, unknown>;
}

function timing(s: SeriesResult): string {
  return Object.entries(s.server)
    .map(([k, v]) => `${k} ${fmt(v.p50)}/${fmt(v.p99)}`)
    .join(', ');
}

function target(value: number, budget: number, text: string): Figure['target'] {
  const met = value <= budget;
  return { text, met, ...(met ? {} : { gap: `${fmt(value)} ms: ${(value / budget).toFixed(1)}x the budget` }) };
}

/** How many questions got a different answer (other citations, or other chunks, in order) in `b` than in `a`. */
function changedAnswers(a: SeriesResult, b: SeriesResult): number {
  return a.tops.filter((top, i) => top.join('\n') !== (b.tops[i] ?? []).join('\n')).length;
}

/**
 * The query phase of a crawl benchmark, on the index that crawl produced:
 * it starts the moment the crawl task reads completed, with no warm-up, no
 * ANALYZE and no compaction by the benchmark (and no maintenance service
 * running: no schedule can help). Three series of the same kind of
 * questions (section headings of the corpus), one request at a time:
 * 1. idle, right after the crawl completed;
 * 2. other headings while a BULK backlog of `embed-texts` jobs drains;
 * 3. the idle questions again after the benchmark ran `ANALYZE` on the
 *    database and compacted the LanceDB table (what a maintenance pass
 *    would give): the reference for latency, and for the answers, which
 *    must not be better there than right after the crawl.
 */
export async function queriesOnCrawl(opts: {
  stack: SampledStack;
  corpus: Corpus;
  knowledgeBase: string;
  databaseUrl: string;
  lanceDir: string;
  producer: JobProducer;
  questions: { idle: string[]; loaded: string[] };
  backlogJobs: number;
}): Promise<CrawlQueryResult> {
  const { stack, corpus, knowledgeBase } = opts;
  const apiUrl = stack.stack.apiUrl;
  const key = corpus.name;
  stack.memory.phase(`queries idle, ${key}`);
  const idle = await runSeries(apiUrl, opts.questions.idle, knowledgeBase);

  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  let tenantId: string;
  try {
    tenantId = (await db.query<{ tenant_id: string }>('SELECT tenant_id FROM tasks LIMIT 1')).rows[0]!.tenant_id;
  } finally {
    await db.end();
  }
  stack.memory.phase(`queries under backlog, ${key}`);
  await enqueueBacklog(opts.producer, tenantId, opts.backlogJobs);
  const backlogAtStart = await backlogOf(opts.producer);
  const loaded = await runSeries(apiUrl, opts.questions.loaded, knowledgeBase);
  const backlogAtEnd = await backlogOf(opts.producer);
  await opts.producer.queue(QueueName.embed).obliterate({ force: true });

  // The reference: what maintenance would have made of the same index.
  stack.memory.phase(`queries after maintenance, ${key}`);
  const maintenanceStarted = performance.now();
  const admin = new pg.Client({ connectionString: opts.databaseUrl });
  await admin.connect();
  try {
    await admin.query('ANALYZE');
  } finally {
    await admin.end();
  }
  const store = new LanceDbVectorStore({ dir: opts.lanceDir, table: DEFAULT_VECTOR_COLLECTION });
  try {
    await store.compact();
  } finally {
    await store.close();
  }
  const maintenanceSeconds = (performance.now() - maintenanceStarted) / 1000;
  const maintained = await runSeries(apiUrl, opts.questions.idle, knowledgeBase);

  const baseline = (p: 'p50' | 'p99') => ({
    label: 'same questions after a manual ANALYZE and compaction',
    value: single(maintained.query.latency[p]),
    measured: true,
  });
  const figures: Figure[] = [
    {
      key: `crawl.${key}.query.p50`,
      label: `${key}: POST /v1/query p50 right after the crawl completed`,
      unit: 'ms',
      better: 'lower',
      value: single(idle.query.latency.p50),
      baseline: baseline('p50'),
      target: target(idle.query.latency.p50, P50_TARGET_MS, `p50 ≤ ${P50_TARGET_MS} ms`),
    },
    {
      key: `crawl.${key}.query.p99`,
      label: `${key}: POST /v1/query p99 right after the crawl completed`,
      unit: 'ms',
      better: 'lower',
      value: single(idle.query.latency.p99),
      baseline: baseline('p99'),
      target: target(idle.query.latency.p99, P99_TARGET_MS, `p99 ≤ ${P99_TARGET_MS} ms`),
    },
    {
      key: `crawl.${key}.query.p99-backlog`,
      label: `${key}: POST /v1/query p99 under the BULK backlog`,
      unit: 'ms',
      better: 'lower',
      value: single(loaded.query.latency.p99),
      baseline: { label: 'same, idle right after the crawl', value: single(idle.query.latency.p99), measured: true },
      target: target(loaded.query.latency.p99, P99_BACKLOG_TARGET_MS, `p99 ≤ ${P99_BACKLOG_TARGET_MS} ms under backlog`),
    },
  ];
  const series = [idle.query, idle.search, loaded.query, loaded.search, maintained.query, maintained.search];
  const notes = [
    `${key}, queries on the crawl's own index (${opts.questions.idle.length} section headings idle, ${opts.questions.loaded.length} others under the backlog; ` +
      `/v1/query topK 5 then /v1/search topK 10 per question): /v1/query p50/p95/p99 idle ${fmt(idle.query.latency.p50)}/${fmt(idle.query.latency.p95)}/${fmt(idle.query.latency.p99)} ms, ` +
      `under the backlog ${fmt(loaded.query.latency.p50)}/${fmt(loaded.query.latency.p95)}/${fmt(loaded.query.latency.p99)} ms, ` +
      `after ANALYZE and compaction (${maintenanceSeconds.toFixed(1)} s) ${fmt(maintained.query.latency.p50)}/${fmt(maintained.query.latency.p95)}/${fmt(maintained.query.latency.p99)} ms; ` +
      `/v1/search p50/p99 ${fmt(idle.search.latency.p50)}/${fmt(idle.search.latency.p99)}, ${fmt(loaded.search.latency.p50)}/${fmt(loaded.search.latency.p99)}, ${fmt(maintained.search.latency.p50)}/${fmt(maintained.search.latency.p99)} ms.`,
    `${key}: answers that changed after ANALYZE and compaction: /v1/query ${changedAnswers(idle.query, maintained.query)} of ${opts.questions.idle.length} (cited URLs), ` +
      `/v1/search ${changedAnswers(idle.search, maintained.search)} of ${opts.questions.idle.length} (chunk ids in order).`,
    `${key}: server-side timings p50/p99 ms, /v1/query right after the crawl: ${timing(idle.query)}; under the backlog: ${timing(loaded.query)}; after maintenance: ${timing(maintained.query)}.`,
    `${key}: backlog ${backlogAtStart.toLocaleString('en')} BULK jobs waiting when the loaded series began, ${backlogAtEnd.toLocaleString('en')} when it ended` +
      `${backlogAtEnd === 0 ? ' (it emptied first: the last questions ran without it, so that series is flattered)' : ''}.`,
  ];
  for (const s of series) if (s.errors > 0) notes.push(`${key}: ${s.errors} ${s.route} answers were not 200 with results: ${s.errorSamples.join(' | ')}`);
  return { figures, notes, details: { idle, loaded, maintained, backlogAtStart, backlogAtEnd, maintenanceSeconds } };
}
