/** Field weights of a knowledge article's chunk vectors (issue 5: title 3x, summary 2x, body 1x). */
const ARTICLE_WEIGHTS = { title: 3, summary: 2, chunk: 1 } as const;

/**
 * A chunk's vector with its document's title and summary mixed in:
 * normalize(3·title + 2·summary + 1·chunk). A missing title or summary
 * (undefined) drops its term; each input is expected L2-normalized, as
 * embedders return them, so the weights are the fields' relative pull.
 */
export function weightedArticleVector(chunk: number[], title?: number[], summary?: number[]): number[] {
  const out = chunk.map((v) => v * ARTICLE_WEIGHTS.chunk);
  const add = (vector: number[] | undefined, weight: number) => {
    if (!vector) return;
    if (vector.length !== out.length) throw new RangeError(`vector lengths differ: ${vector.length} vs ${out.length}`);
    for (let i = 0; i < out.length; i++) out[i]! += weight * vector[i]!;
  };
  add(title, ARTICLE_WEIGHTS.title);
  add(summary, ARTICLE_WEIGHTS.summary);
  let norm = 0;
  for (const v of out) norm += v * v;
  if (norm === 0) return out;
  const scale = 1 / Math.sqrt(norm);
  return out.map((v) => v * scale);
}
