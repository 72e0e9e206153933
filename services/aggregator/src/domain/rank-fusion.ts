/** The constant of Reciprocal Rank Fusion (Cormack et al., 2009): 60 damps the weight of the very top ranks. */
export const RRF_K = 60;

/**
 * Reciprocal Rank Fusion of ranked id lists: each list adds 1/(k + rank) to
 * an id's score. It needs no score calibration between lists, which is why it
 * suits a cosine similarity next to a full-text rank.
 */
export function reciprocalRankFusion(lists: string[][], k = RRF_K): { id: string; score: number }[] {
  const scores = new Map<string, number>();
  for (const list of lists) {
    list.forEach((id, index) => scores.set(id, (scores.get(id) ?? 0) + 1 / (k + index + 1)));
  }
  return [...scores.entries()].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
