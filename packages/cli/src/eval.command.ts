import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatReport, loadQuestionSet, RETRIEVAL_MODES, runEvaluation, type ApiCall, type Progress, type RetrievalMode } from '@kbflow/eval';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

const EVAL_USAGE =
  'usage: ./kbflow eval <question-set-dir> [--modes hybrid,vector,keyword] [--top-k 10] [--knowledge-base eval-rhdh] [--concurrency 4] [--json out.json]';

export interface EvalArgs {
  dir: string;
  modes: RetrievalMode[];
  topK: number;
  knowledgeBase: string;
  concurrency: number;
  json?: string;
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${value}"\n${EVAL_USAGE}`);
  return n;
}

/** Parses `./kbflow eval` arguments; throws with the usage on anything wrong. */
export function parseEvalArgs(args: string[]): EvalArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      modes: { type: 'string' },
      'top-k': { type: 'string' },
      'knowledge-base': { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new Error(EVAL_USAGE);
  const modes = (values.modes ?? RETRIEVAL_MODES.join(',')).split(',').map((m) => m.trim());
  const unknown = modes.filter((m) => !(RETRIEVAL_MODES as readonly string[]).includes(m));
  if (unknown.length > 0 || modes.length === 0) throw new Error(`--modes takes ${RETRIEVAL_MODES.join(', ')}; got "${unknown.join(',')}"\n${EVAL_USAGE}`);
  const knowledgeBase = values['knowledge-base'] ?? 'eval-rhdh';
  if (knowledgeBase.trim() === '') throw new Error(`--knowledge-base must not be empty\n${EVAL_USAGE}`);
  return {
    dir: positionals[0]!,
    modes: [...new Set(modes)] as RetrievalMode[],
    topK: integer('top-k', values['top-k'], 10, 5, 100),
    knowledgeBase,
    concurrency: integer('concurrency', values.concurrency, 4, 1, 64),
    ...(values.json ? { json: values.json } : {}),
  };
}

/**
 * A progress bar per phase on stderr, so stdout keeps only the report; none
 * when stderr is not a terminal (cli-progress draws nothing useful there).
 */
function progressBars(): { onProgress: Progress; stop: () => void } {
  if (!process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bars = new MultiBar({ format: '{phase} [{bar}] {value}/{total} {eta_formatted}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  const byPhase = new Map<string, SingleBar>();
  return {
    onProgress: ({ phase, done, total }) => {
      let bar = byPhase.get(phase);
      if (!bar) byPhase.set(phase, (bar = bars.create(total, 0, { phase: phase === 'index' ? 'indexing guides ' : 'asking questions' })));
      bar.update(done);
    },
    stop: () => bars.stop(),
  };
}

/**
 * `./kbflow eval`: indexes the question set's guides as records (unchanged
 * ones are skipped by the server), asks every question in each mode through
 * `/v1/search` and prints hit@1/3/5, MRR and latency per mode.
 */
export async function evalCommand(args: string[], call: ApiCall, out: (line: string) => void): Promise<void> {
  const opts = parseEvalArgs(args);
  const set = await loadQuestionSet(opts.dir);
  const progress = progressBars();
  let report;
  try {
    report = await runEvaluation(set, { call, ...opts, onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  out(formatReport(report));
  if (opts.json) {
    await writeFile(opts.json, `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`);
    out(`\nreport written to ${opts.json}`);
  }
  // A run where searches failed did not measure what it says.
  process.exitCode = report.modes.some((m) => m.errors > 0) ? 1 : 0;
}
