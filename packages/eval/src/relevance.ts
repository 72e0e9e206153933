/**
 * When a retrieved chunk answers a question of the set: it comes from a guide
 * that holds the passage the question was written from, and its text is
 * mostly that passage.
 *
 * Both sides are compared as sets of word 5-grams ("shingles") of their
 * normalized words: NFKC, lower case, runs of letters and digits only. The
 * passages are flattened Markdown (headings inlined with `#`, line breaks
 * gone, `plug-ins` sometimes spelled `plug ins`), the chunks are Markdown
 * with a breadcrumb line; keeping only letter and digit runs makes the two
 * spellings the same word sequence.
 *
 * - A passage's source guides: every guide holding at least half of the
 *   passage's shingles. Passages copied into several guides (the AKS, EKS
 *   and GKE install guides share whole sections) have several.
 * - A chunk is relevant when it comes from a source guide and the shingles it
 *   shares with the passage are at least half of the smaller of the two sets:
 *   the passage lies mostly inside the chunk, or the chunk mostly inside the
 *   passage. The second case matters because passages run to 740 words at
 *   the median, several chunks long, and a chunk can hold only part of one.
 */

/** Words per shingle: long enough that shared shingles mean shared text, not shared vocabulary. */
export const SHINGLE_WORDS = 5;
/** Share of a passage's shingles a guide must hold to be its source. */
export const SOURCE_COVERAGE = 0.5;
/** Share of the smaller side's shingles a chunk and a passage must share. */
export const CHUNK_OVERLAP = 0.5;

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** The normalized words of a text: NFKC, lower case, letter and digit runs. */
export function normalizedWords(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD_RE) ?? [];
}

/**
 * The set of word n-grams of a text's normalized words. A text shorter than
 * `n` words is one shingle of all its words (empty text: no shingle).
 */
export function shingles(text: string, n = SHINGLE_WORDS): Set<string> {
  const words = normalizedWords(text);
  if (words.length === 0) return new Set();
  if (words.length < n) return new Set([words.join(' ')]);
  const out = new Set<string>();
  for (let i = 0; i + n <= words.length; i++) out.add(words.slice(i, i + n).join(' '));
  return out;
}

function sharedCount(a: Set<string>, b: Set<string>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let n = 0;
  for (const s of small) if (large.has(s)) n++;
  return n;
}

/** A question's passage, located in the corpus. */
export interface LocatedPassage {
  shingles: Set<string>;
  /** Guides holding at least {@link SOURCE_COVERAGE} of the passage, best first. */
  sourceGuides: string[];
  /** Share of the passage's shingles in each source guide. */
  coverage: Record<string, number>;
}

/** Finds the guides a passage comes from; `guides` maps a guide id to its shingles. */
export function locatePassage(passage: string, guides: ReadonlyMap<string, Set<string>>): LocatedPassage {
  const own = shingles(passage);
  const coverage: Record<string, number> = {};
  if (own.size > 0) {
    for (const [guide, guideShingles] of guides) {
      const share = sharedCount(own, guideShingles) / own.size;
      if (share >= SOURCE_COVERAGE) coverage[guide] = Number(share.toFixed(4));
    }
  }
  const sourceGuides = Object.keys(coverage).sort((a, b) => coverage[b]! - coverage[a]! || a.localeCompare(b));
  return { shingles: own, sourceGuides, coverage };
}

/** Whether a chunk's text is mostly the passage, or the passage mostly the chunk. */
export function overlapsPassage(passage: Set<string>, chunkText: string): boolean {
  const chunk = shingles(chunkText);
  if (chunk.size === 0 || passage.size === 0) return false;
  return sharedCount(passage, chunk) >= CHUNK_OVERLAP * Math.min(passage.size, chunk.size);
}

/** Whether a retrieved chunk of `guide` is relevant to any of a question's located passages. */
export function isRelevant(passages: readonly LocatedPassage[], chunk: { guide: string | undefined; text: string }): boolean {
  if (chunk.guide === undefined) return false;
  return passages.some((p) => p.sourceGuides.includes(chunk.guide!) && overlapsPassage(p.shingles, chunk.text));
}

/** A question whose passages were found in the corpus, ready to judge results against. */
export interface LocatedQuestion {
  id: string;
  question: string;
  category: string;
  passages: LocatedPassage[];
}

/** A question left out of the figures, and why. */
export interface ExcludedQuestion {
  id: string;
  question: string;
  category: string;
  reason: string;
}

/**
 * Locates every question's passages in the guides. A question counts when at
 * least one of its passages has a source guide; the others are returned as
 * excluded (they could never be judged a hit, so counting them would blur
 * the figures rather than measure retrieval).
 */
export function locateQuestions(
  questions: readonly { id: string; question: string; category: string; contexts: string[] }[],
  guides: readonly { id: string; body: string }[],
): { located: LocatedQuestion[]; excluded: ExcludedQuestion[] } {
  const guideShingles = new Map(guides.map((g) => [g.id, shingles(g.body)] as const));
  const cache = new Map<string, LocatedPassage>();
  const located: LocatedQuestion[] = [];
  const excluded: ExcludedQuestion[] = [];
  for (const q of questions) {
    const passages = q.contexts
      .map((context) => {
        let found = cache.get(context);
        if (!found) cache.set(context, (found = locatePassage(context, guideShingles)));
        return found;
      })
      .filter((p) => p.sourceGuides.length > 0);
    if (passages.length > 0) located.push({ id: q.id, question: q.question, category: q.category, passages });
    else
      excluded.push({
        id: q.id,
        question: q.question,
        category: q.category,
        reason: `no guide holds ${SOURCE_COVERAGE * 100}% of its passage's word ${SHINGLE_WORDS}-grams`,
      });
  }
  return { located, excluded };
}
