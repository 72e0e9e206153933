import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

// Hand-written: the clustering libraries on npm (ml-hclust, density-clustering,
// ml-kmeans) either need k up front, copy an n x n distance matrix of JS
// numbers (3,000 cases: 9 million boxed entries), or chain unrelated items
// through single links. What a pattern needs is small: tight groups around a
// dense centre, found deterministically, with everything else left out.

/** A group of similar items. */
export interface Cluster {
  /** Member indices (into the input), most similar to the rest first. */
  members: number[];
  /** Per member (same order): its mean cosine similarity to the other members. */
  similarities: number[];
  /** The member with the highest mean similarity: the most representative one. */
  medoid: number;
}

/** Options of {@link clusterBySimilarity}. */
export interface ClusterOptions {
  /** A member's mean cosine similarity to the other members must reach this. */
  threshold: number;
  /** Groups smaller than this are not reported (their items stay unassigned). */
  minSize: number;
  /** Centroid refinement rounds per group (default 5). */
  maxRefinements?: number;
}

/** Packs unit vectors into one Float32Array (row-major) for fast dot products. */
function packVectors(vectors: readonly ArrayLike<number>[]): { data: Float32Array; dims: number } {
  const dims = vectors[0]?.length ?? 0;
  const data = new Float32Array(vectors.length * dims);
  vectors.forEach((v, i) => {
    if (v.length !== dims) throw new RangeError(`vector ${i} has ${v.length} dimensions, expected ${dims}`);
    data.set(v as ArrayLike<number>, i * dims);
  });
  return { data, dims };
}

/** Rows of the pair loop between yields: about 0.1 s of work for 3,000 vectors of 384 dimensions. */
const ROWS_PER_YIELD = 64;

/** Dot product of rows a and b; four accumulators let V8 pipeline the multiply-adds (about 30% faster). */
function dotRows(data: Float32Array, dims: number, a: number, b: number): number {
  const ao = a * dims;
  const bo = b * dims;
  const end = dims - (dims % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = 0; k < end; k += 4) {
    s0 += data[ao + k]! * data[bo + k]!;
    s1 += data[ao + k + 1]! * data[bo + k + 1]!;
    s2 += data[ao + k + 2]! * data[bo + k + 2]!;
    s3 += data[ao + k + 3]! * data[bo + k + 3]!;
  }
  for (let k = end; k < dims; k++) s0 += data[ao + k]! * data[bo + k]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Groups unit vectors into clusters of mutually similar items:
 *
 * 1. every pair with cosine >= threshold becomes an edge (O(n^2) dot
 *    products, about a second for 3,000 vectors of 384 dimensions);
 * 2. the unassigned item with the most unassigned neighbours seeds a group
 *    of itself and those neighbours (ties go to the lower index, so the
 *    result depends only on the input order);
 * 3. the group is refined against its centroid: an item belongs when its
 *    mean similarity to the members (excluding itself) reaches the
 *    threshold, until membership settles. Unlike single-link agglomeration
 *    this never chains A~B~C into one group when A and C differ, and every
 *    member of a reported group has a mean similarity >= threshold;
 * 4. groups of at least minSize are kept and their items taken out; a seed
 *    whose group falls short is not tried again. It stops when no item has
 *    minSize - 1 unassigned neighbours left.
 *
 * The pair loop yields to the event loop every few rows, so a worker that
 * also answers queries keeps answering (and renews its job locks).
 *
 * @returns clusters, largest first
 */
export async function clusterBySimilarity(vectors: readonly ArrayLike<number>[], opts: ClusterOptions): Promise<Cluster[]> {
  const n = vectors.length;
  if (n < opts.minSize || n === 0) return [];
  const { data, dims } = packVectors(vectors);
  const neighbours: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    if (i % ROWS_PER_YIELD === ROWS_PER_YIELD - 1) await yieldToEventLoop();
    for (let j = i + 1; j < n; j++) {
      if (dotRows(data, dims, i, j) >= opts.threshold) {
        neighbours[i]!.push(j);
        neighbours[j]!.push(i);
      }
    }
  }

  const assigned = new Uint8Array(n);
  const tried = new Uint8Array(n);
  const clusters: Cluster[] = [];
  const sum = new Float64Array(dims);
  for (;;) {
    let seed = -1;
    let best = opts.minSize - 2;
    for (let i = 0; i < n; i++) {
      if (assigned[i] || tried[i] || neighbours[i]!.length <= best) continue;
      let free = 0;
      for (const j of neighbours[i]!) if (!assigned[j]) free++;
      if (free > best) {
        best = free;
        seed = i;
      }
    }
    if (seed < 0) break;
    tried[seed] = 1;
    await yieldToEventLoop();

    let members = [seed, ...neighbours[seed]!.filter((j) => !assigned[j])].sort((a, b) => a - b);
    let scores: number[] = [];
    for (let round = 0; round < (opts.maxRefinements ?? 5); round++) {
      sum.fill(0);
      for (const m of members) for (let k = 0; k < dims; k++) sum[k]! += data[m * dims + k]!;
      const inGroup = new Set(members);
      const next: number[] = [];
      for (let i = 0; i < n; i++) {
        if (assigned[i]) continue;
        let s = 0;
        for (let k = 0; k < dims; k++) s += data[i * dims + k]! * sum[k]!;
        // Mean similarity to the members other than itself.
        const mean = inGroup.has(i) ? (s - dotRows(data, dims, i, i)) / Math.max(1, members.length - 1) : s / members.length;
        if (mean >= opts.threshold) next.push(i);
      }
      const settled = next.length === members.length && next.every((m, k) => m === members[k]);
      members = next;
      if (settled || members.length < opts.minSize) break;
    }
    // Scores were taken against the group before its last update: score the
    // final group exactly and drop members below the threshold until none is.
    while (members.length >= opts.minSize) {
      scores = exactMeanSimilarities(data, dims, members);
      const kept = members.filter((_, k) => scores[k]! >= opts.threshold);
      if (kept.length === members.length) break;
      members = kept;
    }
    if (members.length < opts.minSize) continue;
    const order = members.map((m, k) => ({ m, s: scores[k]! })).sort((a, b) => b.s - a.s || a.m - b.m);
    for (const { m } of order) assigned[m] = 1;
    clusters.push({ members: order.map((o) => o.m), similarities: order.map((o) => o.s), medoid: order[0]!.m });
  }
  return clusters.sort((a, b) => b.members.length - a.members.length || a.medoid - b.medoid);
}

function exactMeanSimilarities(data: Float32Array, dims: number, members: number[]): number[] {
  const sum = new Float64Array(dims);
  for (const m of members) for (let k = 0; k < dims; k++) sum[k]! += data[m * dims + k]!;
  return members.map((m) => {
    let s = 0;
    for (let k = 0; k < dims; k++) s += data[m * dims + k]! * sum[k]!;
    return (s - dotRows(data, dims, m, m)) / Math.max(1, members.length - 1);
  });
}
