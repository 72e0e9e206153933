import { jaccard, shinglesOf, wordsOf } from './text-similarity.ts';

/**
 * Words per shingle. Shingles rather than a bag of words keep local word
 * order, so two different passages on one topic (same vocabulary, other
 * sentences) do not look alike.
 */
export const SHINGLE_WORDS = 3;

/**
 * Jaccard similarity of 3-word shingles at or above which two chunks are the
 * same passage. One changed word alters up to 3 shingles on each side: a
 * 200-word chunk with 3 edited words (a date, a version, a product name in
 * boilerplate copied across pages) still scores 0.91, while 4 edits score
 * 0.89 and two passages that only share a template sentence score far
 * lower. 0.9 thus means "the same text, give or take a few words", the
 * usual near-duplicate cut-off in web-page deduplication.
 */
export const NEAR_DUPLICATE_JACCARD = 0.9;

export interface DuplicateCandidate {
  text: string;
  /** SHA-256 of the text when known (chunks store it): equal hashes are duplicates without comparing text. */
  hash?: string;
}

/**
 * Keeps the first (best-ranked) of every group of chunks whose text is the
 * same (equal hash) or nearly the same (shingle Jaccard >= `threshold`).
 * `ranked` is best first; the kept ones stay in that order. Each candidate is
 * compared with the kept ones only: O(n * kept) set comparisons, cheap for
 * the few hundred candidates of one query.
 */
export function collapseNearDuplicates<T extends DuplicateCandidate>(
  ranked: readonly T[],
  threshold = NEAR_DUPLICATE_JACCARD,
): { kept: T[]; collapsed: number } {
  const kept: { item: T; shingles: Set<string> }[] = [];
  const hashes = new Set<string>();
  for (const item of ranked) {
    if (item.hash !== undefined && hashes.has(item.hash)) continue;
    const shingles = shinglesOf(wordsOf(item.text), SHINGLE_WORDS);
    const duplicate = kept.some((k) => {
      // Jaccard >= t needs min(|A|, |B|) / max(|A|, |B|) >= t: skip pairs whose sizes already rule it out.
      const small = Math.min(k.shingles.size, shingles.size);
      const large = Math.max(k.shingles.size, shingles.size);
      return large > 0 && small / large >= threshold && jaccard(k.shingles, shingles) >= threshold;
    });
    if (duplicate) continue;
    if (item.hash !== undefined) hashes.add(item.hash);
    kept.push({ item, shingles });
  }
  return { kept: kept.map((k) => k.item), collapsed: ranked.length - kept.length };
}
