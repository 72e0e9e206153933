// `./kbflow bench [--only queue,crawl,recrawl,ingest,query,fairness] [--quick] [--out DIR]`:
// runs the benchmark suite and writes bench-results/<timestamp>.{json,md,svg}.
// Benchmarks are not tests: nothing here asserts; targets are reported as
// met or missed, with by how much.
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '@kbflow/testing';
import { crawlThroughput } from './benchmarks/crawl-throughput.ts';
import { fairness } from './benchmarks/fairness.ts';
import { ingestionThroughput } from './benchmarks/ingestion-throughput.ts';
import { queryLatency } from './benchmarks/query-latency.ts';
import { queueOverhead } from './benchmarks/queue-overhead.ts';
import { recrawlCost } from './benchmarks/recrawl.ts';
import { AbsentError } from './absent-error.ts';
import { BenchContext } from './context.ts';
import { writeReport } from './report/write-report.ts';
import { BENCHMARK_NAMES, type BenchmarkName, type BenchmarkResult, type RunReport } from './report/types.ts';

const RUNNERS: Record<BenchmarkName, (ctx: BenchContext) => Promise<BenchmarkResult>> = {
  queue: queueOverhead,
  crawl: crawlThroughput,
  recrawl: recrawlCost,
  ingest: ingestionThroughput,
  query: queryLatency,
  fairness,
};

const USAGE = `usage: ./kbflow bench [--only ${BENCHMARK_NAMES.join(',')}] [--quick] [--out DIR] [--node-options FLAGS]
  --only          comma-separated benchmarks to run (default: all)
  --quick         smaller sizes and fewer runs (about 3 minutes instead of 15)
  --out           where reports go (default: bench-results/)
  --node-options  NODE_OPTIONS for every service process, e.g. to profile:
                  --node-options='--cpu-prof --cpu-prof-dir=bench-results/profiles'`;

function parse(argv: string[]): { only: BenchmarkName[]; quick: boolean; out: string; nodeOptions: string | undefined } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      'node-options': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...BENCHMARK_NAMES];
  const unknown = only.filter((n) => !(BENCHMARK_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHMARK_NAMES.join(', ')})`);
  return {
    only: only as BenchmarkName[],
    quick: values.quick,
    out: path.resolve(values.out ?? path.join(REPO_ROOT, 'bench-results')),
    nodeOptions: values['node-options'],
  };
}

function machine(): RunReport['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
    loadAverageAtEnd: [],
  };
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const ctx = new BenchContext({
    quick: args.quick,
    logDir: path.join(args.out, 'logs', stamp),
    ...(args.nodeOptions ? { serviceNodeOptions: args.nodeOptions } : {}),
  });
  const report: RunReport = { version: 1, startedAt: startedAt.toISOString(), finishedAt: '', quick: args.quick, machine: machine(), results: [], absent: [] };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    ctx.say('interrupted: cleaning up');
    void ctx.cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  ctx.say(`running ${args.only.join(', ')}${args.quick ? ' (quick)' : ''}; load average ${report.machine.loadAverageAtStart.join(' ')}`);
  try {
    for (const name of args.only) {
      try {
        const result = await RUNNERS[name](ctx);
        report.results.push(result);
        ctx.say(`${name}: done in ${(result.durationMs / 1000).toFixed(0)} s`);
      } catch (error) {
        const reason = error instanceof AbsentError ? error.message : `failed: ${(error as Error).stack ?? String(error)}`;
        report.absent.push({ name, reason });
        ctx.say(`${name}: ${error instanceof AbsentError ? 'absent' : 'FAILED'}: ${(error as Error).message}`);
      }
    }
  } finally {
    ctx.say('cleaning up');
    await ctx.cleanup();
  }
  report.finishedAt = new Date().toISOString();
  report.machine.loadAverageAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
  const files = await writeReport(report, args.out, stamp);
  ctx.say(`report: ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  process.exit(report.absent.some((a) => a.reason.startsWith('failed')) ? 1 : 0);
}

await main();
