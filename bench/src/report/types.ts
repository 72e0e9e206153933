import type { Summary } from '../stats.ts';

/** A target from issue 6 (or 5) and whether this run met it. */
interface Target {
  /** As the issue states it, e.g. "≥ 80 % of raw BullMQ". */
  text: string;
  met: boolean;
  /** When missed: by how much, in words ("p99 is 2.3x the 50 ms budget"). */
  gap?: string;
}

/**
 * One figure of the report: kbflow's value next to its baseline, measured in
 * the same run (or, for ingestion, a comparable system's published figure).
 */
export interface Figure {
  /** Stable across runs; the comparison with the previous run matches on it. */
  key: string;
  label: string;
  unit: string;
  /** Which direction is good, for the ratio and the chart. */
  better: 'higher' | 'lower';
  value: Summary;
  baseline?: {
    label: string;
    value: Summary;
    /** False for a published figure that this run did not measure. */
    measured: boolean;
  };
  target?: Target;
}

/** What one benchmark hands back. */
export interface BenchmarkResult {
  name: BenchmarkName;
  title: string;
  /** How it was measured, in one paragraph (sizes, concurrency, runs). */
  method: string;
  figures: Figure[];
  /** Findings: why a target was missed, profiles, anomalies. */
  notes: string[];
  /** Extra numbers kept in the JSON (per-run detail), not in the table. */
  details?: Record<string, unknown>;
  durationMs: number;
}

export const BENCHMARK_NAMES = ['queue', 'crawl', 'recrawl', 'ingest', 'query', 'fairness'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

/** The JSON file of one run. */
export interface RunReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  results: BenchmarkResult[];
  /** Benchmarks asked for that did not run, and why (e.g. an endpoint that does not exist yet). */
  absent: { name: BenchmarkName; reason: string }[];
}

/** kbflow's value over its baseline's, medians; undefined without a baseline. */
export function ratioOf(figure: Figure): number | undefined {
  if (!figure.baseline || figure.baseline.value.median === 0) return undefined;
  return figure.value.median / figure.baseline.value.median;
}
