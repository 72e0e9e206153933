import { contentTokensOf, jaccard } from './text-similarity.ts';

export interface MmrCandidate {
  text: string;
  /** Higher is more relevant, on any scale (cosine, full-text rank or RRF): it is min-max normalized here. */
  score: number;
}

/**
 * Maximal Marginal Relevance (Carbonell & Goldstein, 1998): picks `k`
 * candidates greedily, each maximizing
 * `λ · relevance − (1 − λ) · max similarity to those already picked`,
 * with `λ = 1 − diversity`. `diversity` 0 keeps the relevance order;
 * 1 picks the most relevant first, then whatever is least like the picks.
 *
 * Relevance is the candidate's score min-max normalized over the candidates,
 * so it is on the same [0, 1] scale as the similarity whatever the mode.
 * Similarity is the Jaccard overlap of content-word sets, not the cosine of
 * embeddings: keyword hits (and every hit while the vector store is down)
 * have no vector, and fetching vectors back from the store for each
 * candidate would cost a round trip per query; the text is already at hand,
 * read from PostgreSQL. `candidates` is best first; ties keep that order.
 */
export function maximalMarginalRelevance<T extends MmrCandidate>(candidates: readonly T[], k: number, diversity: number): T[] {
  if (diversity <= 0 || candidates.length <= 1) return candidates.slice(0, k);
  const lambda = 1 - Math.min(1, diversity);
  const scores = candidates.map((c) => c.score);
  const max = Math.max(...scores);
  const min = Math.min(...scores);
  const relevance = scores.map((s) => (max === min ? 1 : (s - min) / (max - min)));
  const tokens = candidates.map((c) => contentTokensOf(c.text));
  // Each candidate's highest similarity to anything picked so far, updated after every pick.
  const maxSimilarity = new Array<number>(candidates.length).fill(0);
  const remaining = new Set(candidates.map((_, i) => i));
  const picked: T[] = [];
  while (picked.length < k && remaining.size > 0) {
    let best = -1;
    let bestValue = -Infinity;
    for (const i of remaining) {
      const value = lambda * relevance[i]! - (1 - lambda) * maxSimilarity[i]!;
      if (value > bestValue) {
        best = i;
        bestValue = value;
      }
    }
    remaining.delete(best);
    picked.push(candidates[best]!);
    for (const i of remaining) maxSimilarity[i] = Math.max(maxSimilarity[i]!, jaccard(tokens[i]!, tokens[best]!));
  }
  return picked;
}
