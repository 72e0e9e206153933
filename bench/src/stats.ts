/** A set of measurements of one quantity, summarised. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in the order taken. */
  runs: number[];
}

/** The q-quantile (0..1) by linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median, min and max of repeated runs. */
export function summarize(runs: readonly number[]): Summary {
  return { median: quantile(runs, 0.5), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] };
}

/** A single measurement as a summary (one run: no spread). */
export function single(value: number): Summary {
  return summarize([value]);
}

/** Latency percentiles of one series of requests, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function latencySummary(samplesMs: readonly number[]): LatencySummary {
  return {
    count: samplesMs.length,
    p50: quantile(samplesMs, 0.5),
    p95: quantile(samplesMs, 0.95),
    p99: quantile(samplesMs, 0.99),
    max: samplesMs.length ? Math.max(...samplesMs) : Number.NaN,
  };
}
