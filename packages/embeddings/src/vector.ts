/**
 * Scales `values` to unit length in place and returns them. A zero vector is
 * left as it is: callers decide what a vector without direction means.
 */
export function l2NormalizeInPlace<T extends { length: number; [i: number]: number }>(values: T): T {
  let sumOfSquares = 0;
  for (let i = 0; i < values.length; i++) sumOfSquares += values[i]! * values[i]!;
  if (sumOfSquares === 0) return values;
  const scale = 1 / Math.sqrt(sumOfSquares);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! * scale;
  return values;
}

/** Dot product; the cosine similarity when both vectors are unit length. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
