import { describe, expect, it } from '@jest/globals';
import { clusterBySimilarity } from './case-clustering.ts';

/** A unit vector near axis `axis` (of `dims`), tilted by `noise` towards axis `tilt`. */
function near(axis: number, tilt: number, noise: number, dims = 8): number[] {
  const v = new Array<number>(dims).fill(0);
  v[axis] = 1;
  v[tilt] = (v[tilt] ?? 0) + noise;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('clusterBySimilarity', () => {
  it('finds each tight group of at least minSize and leaves scattered items out', async () => {
    const vectors = [
      ...[0.1, 0.2, 0.15, 0.05, 0.12].map((t) => near(0, 1, t)), // 0-4: group A
      ...[0.1, 0.2, 0.15, 0.05, 0.12, 0.08].map((t) => near(2, 3, t)), // 5-10: group B
      near(4, 5, 0.1),
      near(5, 6, 0.1),
      near(6, 7, 0.1), // 11-13: singletons
    ];
    const clusters = await clusterBySimilarity(vectors, { threshold: 0.9, minSize: 5 });
    expect(clusters.map((c) => [...c.members].sort((a, b) => a - b))).toEqual([
      [5, 6, 7, 8, 9, 10],
      [0, 1, 2, 3, 4],
    ]);
    for (const c of clusters) {
      expect(c.similarities.every((s) => s >= 0.9)).toBe(true);
      expect(c.medoid).toBe(c.members[0]);
      expect([...c.similarities].sort((a, b) => b - a)).toEqual(c.similarities);
    }
  });

  it('reports nothing for a group smaller than minSize', async () => {
    const vectors = [0.1, 0.2, 0.15, 0.05].map((t) => near(0, 1, t));
    expect(await clusterBySimilarity(vectors, { threshold: 0.9, minSize: 5 })).toEqual([]);
    expect(await clusterBySimilarity(vectors, { threshold: 0.9, minSize: 4 })).toHaveLength(1);
  });

  it('does not chain a bridge of pairwise-similar items into one group', async () => {
    // Items along an arc: each is close to its neighbours, the ends are far apart.
    const arc = Array.from({ length: 12 }, (_, i) => {
      const angle = (i * Math.PI) / 2 / 11;
      return [Math.cos(angle), Math.sin(angle), 0, 0];
    });
    const clusters = await clusterBySimilarity(arc, { threshold: 0.95, minSize: 3 });
    for (const c of clusters) {
      const span = Math.max(...c.members) - Math.min(...c.members);
      expect(span).toBeLessThan(11);
      expect(c.similarities.every((s) => s >= 0.95)).toBe(true);
    }
  });

  it('gives the same clusters for the same input', async () => {
    const vectors = [...[0.1, 0.3, 0.2, 0.25, 0.15].map((t) => near(0, 1, t)), ...[0.1, 0.3, 0.2, 0.25, 0.15].map((t) => near(1, 0, t))];
    const a = await clusterBySimilarity(vectors, { threshold: 0.8, minSize: 3 });
    const b = await clusterBySimilarity(vectors, { threshold: 0.8, minSize: 3 });
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(0);
  });

  it('refuses vectors of different lengths', async () => {
    await expect(
      clusterBySimilarity(
        [
          [1, 0],
          [1, 0, 0],
        ],
        { threshold: 0.5, minSize: 2 },
      ),
    ).rejects.toThrow(RangeError);
  });
});
