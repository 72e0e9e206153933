/**
 * The nearest-rank percentile (p in 0..100) of a sample, or null for an
 * empty one. Hand-written: a dozen lines do not justify a statistics package.
 */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
