import { STOPWORDS } from '@kbflow/embeddings';

// Word sets, shingles and Jaccard similarity: a handful of lines that no
// maintained package does better for our sizes (a few hundred passages per
// query), so they are written here rather than pulled in as a dependency.

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Lower-cased words of NFKC-normalized text (runs of Unicode letters and digits), in order. */
export function wordsOf(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD_RE) ?? [];
}

/**
 * The set of `size`-word shingles (w-shingling, Broder 1997): every run of
 * `size` consecutive words. A text shorter than `size` words is one shingle.
 */
export function shinglesOf(words: readonly string[], size: number): Set<string> {
  if (words.length === 0) return new Set();
  if (words.length < size) return new Set([words.join(' ')]);
  const shingles = new Set<string>();
  for (let i = 0; i + size <= words.length; i++) shingles.add(words.slice(i, i + size).join(' '));
  return shingles;
}

/** The content words of a text as a set: stopwords carry no topic, so they would only add noise to a similarity. */
export function contentTokensOf(text: string): Set<string> {
  return new Set(wordsOf(text).filter((w) => !STOPWORDS.has(w)));
}

/**
 * |A ∩ B| / |A ∪ B|. Two empty sets share nothing measurable and score 0
 * (identical empty texts are caught by their hash, not here).
 */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}
