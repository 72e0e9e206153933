import type { Summary } from '../stats.ts';
import { ratioOf, type Figure, type RunReport } from './types.ts';

/** A number for a table: thousands separated, about three significant digits. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function withSpread(s: Summary, unit: string): string {
  const base = `${fmt(s.median)} ${unit}`;
  return s.runs.length > 1 ? `${base} (${fmt(s.min)}–${fmt(s.max)}, n=${s.runs.length})` : base;
}

function ratioText(figure: Figure): string {
  const r = ratioOf(figure);
  return r === undefined ? '' : `${r.toFixed(2)}x`;
}

function targetText(figure: Figure): string {
  if (!figure.target) return '';
  return figure.target.met ? `met (${figure.target.text})` : `**missed** (${figure.target.text}${figure.target.gap ? `: ${figure.target.gap}` : ''})`;
}

function previousText(figure: Figure, previous: Map<string, Figure> | undefined): string {
  const before = previous?.get(figure.key);
  if (!before || before.value.median === 0) return '';
  return `${(figure.value.median / before.value.median).toFixed(2)}x`;
}

/** Every figure of a run keyed for comparison. */
function figuresByKey(report: RunReport): Map<string, Figure> {
  return new Map(report.results.flatMap((r) => r.figures.map((f) => [f.key, f] as const)));
}

const HEADER = '| figure | kbflow | baseline | kbflow / baseline | target | vs previous run |\n|---|---|---|---|---|---|';

function row(figure: Figure, previous: Map<string, Figure> | undefined, withRuns: boolean): string {
  const value = withRuns ? withSpread(figure.value, figure.unit) : `${fmt(figure.value.median)} ${figure.unit}`;
  const baseline = figure.baseline
    ? `${withRuns ? withSpread(figure.baseline.value, figure.unit) : `${fmt(figure.baseline.value.median)} ${figure.unit}`} (${figure.baseline.label}${figure.baseline.measured ? '' : ', published'})`
    : '';
  return `| ${figure.label} | ${value} | ${baseline} | ${ratioText(figure)} | ${targetText(figure)} | ${previousText(figure, previous)} |`;
}

/**
 * The Markdown report of a run: a summary table of every figure with its
 * baseline, ratio, target and change since the previous run, then one section
 * per benchmark with its method, per-run spread and notes.
 */
export function renderMarkdown(report: RunReport, previous?: { report: RunReport; file: string }, chartFile?: string): string {
  const prev = previous ? figuresByKey(previous.report) : undefined;
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# kbflow benchmarks, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (quick)' : ''}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}; load average ${m.loadAverageAtStart.join(' / ')} at start, ` +
      `${m.loadAverageAtEnd.join(' / ')} at the end (1/5/15 min; other work on the machine shows here). ` +
      `Spread: median (min–max, n runs). "vs previous run": this run's median over the previous report's` +
      `${previous ? ` (${previous.file}, ${previous.report.startedAt.slice(0, 16).replace('T', ' ')})` : ' (none found)'}.`,
  );
  lines.push('');
  if (chartFile) lines.push(`![kbflow next to its baselines](${chartFile})`, '');
  lines.push('## Summary', '', HEADER);
  for (const result of report.results) for (const f of result.figures) lines.push(row({ ...f, label: `${result.title}: ${f.label}` }, prev, false));
  lines.push('');
  const targets = report.results.flatMap((r) => r.figures.filter((f) => f.target).map((f) => ({ ...f, label: `${r.title}: ${f.label}` })));
  const missed = targets.filter((f) => !f.target!.met);
  lines.push(
    `Targets: ${targets.length - missed.length} of ${targets.length} met${missed.length ? `; missed: ${missed.map((f) => f.label).join('; ')}` : ''}.`,
  );
  for (const a of report.absent) lines.push('', `**${a.name}: not measured.** ${a.reason.split('\n')[0]}`);
  for (const result of report.results) {
    lines.push('', `## ${result.title}`, '', result.method, '', HEADER);
    for (const f of result.figures) lines.push(row(f, prev, true));
    if (result.notes.length > 0) lines.push('', ...result.notes.map((n) => `- ${n}`));
    lines.push('', `(${(result.durationMs / 1000).toFixed(0)} s)`);
  }
  return `${lines.join('\n')}\n`;
}
