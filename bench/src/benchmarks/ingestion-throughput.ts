import { apiClient } from '@kbflow/testing';
import { AbsentError } from '../absent-error.ts';
import { BENCH_API_KEY, type BenchContext } from '../context.ts';
import { syntheticRecords, type BenchRecord } from '../data/synthetic-records.ts';
import { fmt } from '../report/markdown.ts';
import type { BenchmarkResult, Figure } from '../report/types.ts';
import { quantile, summarize } from '../stats.ts';
import { memoryBreakdown, memoryNote, peakMemoryFigures } from './memory-figures.ts';
import { copyBaseline, createBaselineTables, type BaselineStore } from './ingestion-baseline.ts';
import { requireData } from '../data/corpora.ts';
import { SHARED_DATA } from '@kbflow/testing';
import path from 'node:path';

const TARGET = 10_000;
/** kbflow must reach at least this share of the storage baseline measured in the same run. */
const BASELINE_SHARE = 0.5;
/** Records per request: 100,000 go as ten requests (about 11 MB of NDJSON each, under the 64 MB cap). */
const PER_REQUEST = 10_000;

interface IngestRun {
  records: number;
  requests: number;
  /** Until the last 202 came back (rows stored, jobs queued). */
  acceptedSeconds: number;
  /** Until every ingest task was completed (every record embedded and in the vector store). */
  completedSeconds: number;
}

async function post(apiUrl: string, records: BenchRecord[], knowledgeBase: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${apiUrl}/v1/records?knowledgeBase=${knowledgeBase}&source=bench`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/x-ndjson' },
    body: records.map((r) => JSON.stringify(r)).join('\n'),
  });
  return { status: res.status, json: await res.json().catch(() => ({})) };
}

const median = (values: number[]) => quantile(values, 0.5);

/**
 * One ingestion, end to end: NDJSON requests of 10,000 records sent one after
 * another (each answers 202 once its rows are stored), then every task polled
 * through GET /v1/tasks/:id until completed.
 */
async function ingest(apiUrl: string, count: number, label: string): Promise<IngestRun> {
  const records = syntheticRecords(count, label);
  return ingestRecords(apiUrl, records, label);
}

async function ingestRecords(apiUrl: string, records: BenchRecord[], label: string): Promise<IngestRun> {
  const count = records.length;
  const client = apiClient(() => apiUrl, BENCH_API_KEY);
  const started = performance.now();
  const taskIds: string[] = [];
  for (let i = 0; i < records.length; i += PER_REQUEST) {
    const res = await post(apiUrl, records.slice(i, i + PER_REQUEST), label);
    if (res.status !== 202) throw new Error(`POST /v1/records answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
    if (res.json.invalid > 0) throw new Error(`POST /v1/records rejected ${res.json.invalid} rows: ${JSON.stringify(res.json.errors?.slice(0, 3))}`);
    taskIds.push(res.json.taskId);
  }
  const acceptedSeconds = (performance.now() - started) / 1000;
  for (const taskId of taskIds) {
    const task = await client.waitForTask(taskId, 1_800_000, { everyMs: 250 });
    if (task.state !== 'completed') throw new Error(`ingest task ${taskId} ended ${task.state}: ${JSON.stringify(task).slice(0, 300)}`);
  }
  return { records: count, requests: taskIds.length, acceptedSeconds, completedSeconds: (performance.now() - started) / 1000 };
}

function figure(size: number, runs: IngestRun[], baselineRuns: number[]): Figure {
  const value = summarize(runs.map((r) => r.records / r.completedSeconds));
  const baseline = summarize(baselineRuns);
  const share = value.median / baseline.median;
  const met = value.median >= TARGET && share >= BASELINE_SHARE;
  const gaps = [
    ...(value.median >= TARGET
      ? []
      : [`${fmt(value.median)} records/s: ${((1 - value.median / TARGET) * 100).toFixed(0)} % short of ${TARGET.toLocaleString('en')}`]),
    ...(share >= BASELINE_SHARE ? [] : [`${share.toFixed(2)}x the baseline`]),
  ];
  return {
    key: `ingest.records-per-s.${size}`,
    label: `${size.toLocaleString('en')} records, end to end`,
    unit: 'records/s',
    better: 'higher',
    value,
    baseline: { label: 'COPY into scratch tables + same embedder + large LanceDB appends', value: baseline, measured: true },
    target: { text: `≥ ${TARGET.toLocaleString('en')} records/s and ≥ ${BASELINE_SHARE}x the baseline`, met, ...(met ? {} : { gap: gaps.join('; ') }) },
  };
}

/**
 * Ingestion throughput through POST /v1/records, end to end (until the
 * ingest tasks are completed: stored, chunked, embedded, in the vector
 * store), for 10,000 and 100,000 records, next to a baseline measured in the same run
 * (COPY into scratch tables, see ingestion-baseline.ts).
 */
export async function ingestionThroughput(ctx: BenchContext): Promise<BenchmarkResult> {
  const started = Date.now();
  requireData(path.join(SHARED_DATA, 'support-tickets'), 'ingest');
  const databaseUrl = await ctx.database('ingest');
  await createBaselineTables(databaseUrl);
  const baselineStore: BaselineStore = { databaseUrl, lanceDir: await ctx.tempDir('ingest-baseline-lance') };
  const stack = await ctx.startStack('ingest', ['api', 'embedder', 'aggregator'], {
    DATABASE_URL: databaseUrl,
    KBFLOW_QUEUE_PREFIX: ctx.prefix('ingest'),
    KBFLOW_LANCEDB_DIR: await ctx.tempDir('ingest-lance'),
  });
  try {
    const probe = await post(stack.stack.apiUrl, [], 'probe');
    if (probe.status === 404) throw new AbsentError('POST /v1/records does not exist in this build (404); ingestion throughput was not measured');
    ctx.say('ingest: warm-up (1,000 records)');
    await ingest(stack.stack.apiUrl, 1000, 'warm');
    await copyBaseline(baselineStore, syntheticRecords(1000, 'warm-baseline'));
    const small: IngestRun[] = [];
    const smallBaseline: number[] = [];
    const baselineRows: number[] = [];
    // Alternating: kbflow, then the baseline on other records of the same size.
    for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
      stack.memory.phase('ingest 10,000');
      small.push(await ingest(stack.stack.apiUrl, 10_000, `small${i}`));
      stack.memory.phase('baseline');
      const b = await copyBaseline(baselineStore, syntheticRecords(10_000, `base-small${i}`));
      smallBaseline.push(10_000 / b.seconds);
      baselineRows.push(10_000 / b.rowsSeconds);
      ctx.say(
        `ingest: 10,000 records in ${small.at(-1)!.completedSeconds.toFixed(1)} s; baseline ${b.seconds.toFixed(1)} s (rows ${b.rowsSeconds.toFixed(1)} s)`,
      );
    }
    const large: IngestRun[] = [];
    const largeBaseline: number[] = [];
    if (!ctx.quick) {
      stack.memory.phase('ingest 100,000');
      large.push(await ingest(stack.stack.apiUrl, 100_000, 'large'));
      stack.memory.phase('baseline');
      const b = await copyBaseline(baselineStore, syntheticRecords(100_000, 'base-large'));
      largeBaseline.push(100_000 / b.seconds);
      baselineRows.push(100_000 / b.rowsSeconds);
      ctx.say(`ingest: 100,000 records in ${large[0]!.completedSeconds.toFixed(1)} s; baseline ${b.seconds.toFixed(1)} s (rows ${b.rowsSeconds.toFixed(1)} s)`);
    }
    const memory = stack.memory.summary();
    const memoryKinds = await memoryBreakdown(stack.stack.services, 'right after the last ingest completed');
    const runs = [...small, ...large];
    return {
      name: 'ingest',
      title: 'Ingestion throughput',
      method:
        `Synthetic records built from the 11,460 support tickets and GitHub issues of shared/data/support-tickets, repeated with distinct ids ` +
        `and a distinct reference line each (so nothing is skipped as unchanged or served from the embedding cache); bodies cut to 900 characters, ` +
        `one chunk per record. Sent as NDJSON to POST /v1/records, ${PER_REQUEST.toLocaleString('en')} records per request, requests one after another; ` +
        `timed from the first request until every ingest task is completed (GET /v1/tasks/:id, polled every 250 ms). ` +
        `Real api, embedder and aggregator processes, offline embedder, LanceDB. ${ctx.quick ? 'Quick run: 10,000 records once, 100,000 not run.' : '10,000 records three times, 100,000 once.'} ` +
        `Baseline, measured in the same run, alternating with kbflow's runs on other records of the same size: the same documents and chunks (kbflow's own preparation, chunking and ids) ` +
        `written with COPY into scratch copies of the tables (same indexes and generated full-text column) in one transaction, then their vectors from the same offline embedder ` +
        `appended to a scratch LanceDB table in batches of 10,000, in the benchmark process (see ingestion-baseline.ts): what the storage itself can take.`,
      figures: [
        figure(10_000, small, smallBaseline),
        ...(large.length ? [figure(100_000, large, largeBaseline)] : []),
        ...peakMemoryFigures(
          'ingest',
          memory,
          Object.keys(memory).filter((p) => p.startsWith('ingest')),
        ),
      ],
      notes: [
        `Per run (records: last 202 after / all tasks completed after, s): ${runs.map((r) => `${r.records.toLocaleString('en')}: ${r.acceptedSeconds.toFixed(1)} / ${r.completedSeconds.toFixed(1)}`).join('; ')}. ` +
          `The requests themselves (parse, validate, chunk and store every row in PostgreSQL, then queue the embed jobs) took ` +
          `${(median(runs.map((r) => r.acceptedSeconds / r.completedSeconds)) * 100).toFixed(0)} % of the end-to-end time (median); embedding, LanceDB upserts and completion the rest, ` +
          `in one embedder process (concurrency 4) on two cores shared with the api, aggregator, PostgreSQL and Redis.`,
        `Baseline runs, records/s end to end: ${[...smallBaseline, ...largeBaseline].map((v) => fmt(v)).join(', ')}; its COPY part alone (documents and chunks, one transaction): ${baselineRows.map((v) => fmt(v)).join(', ')} records/s.`,
        ...Object.keys(memory)
          .filter((p) => p.startsWith('ingest'))
          .map((p) => memoryNote(memory, p)),
        memoryKinds,
      ],
      details: { runs, memory },
      durationMs: Date.now() - started,
    };
  } finally {
    await stack.stop();
  }
}
