import { createHash } from 'node:crypto';
import type { DetectedPattern } from './knowledge-patterns.ts';
import { jaccard } from './text-similarity.ts';

/** A generated article as identity matching sees it. */
export interface KnownArticle {
  id: string;
  patternKey: string;
  status: string;
  /** The cases of its provenance rows (kept when an article is retired). */
  caseIds: readonly string[];
}

/** A detected pattern and the article it writes: an existing one (`articleId`) or a new one under `patternKey`. */
export interface PlannedArticle {
  pattern: DetectedPattern;
  articleId: string | undefined;
  patternKey: string;
  /** Jaccard overlap with the matched article's cases (0 for a new article). */
  overlap: number;
}

export interface ArticlePlan {
  articles: PlannedArticle[];
  /** Active articles whose pattern is gone. */
  retire: string[];
}

/** Overlap an existing article must have with a pattern to be that pattern's article. */
const DEFAULT_MIN_OVERLAP = 0.5;

/**
 * Gives each detected pattern its article, so regeneration never duplicates
 * one:
 *
 * 1. a pattern whose cases overlap an existing article's (active or retired)
 *    by Jaccard >= `minOverlap` is that article, keeping its pattern key,
 *    however the cluster shifted (best overlaps are paired first, one article
 *    per pattern);
 * 2. any other pattern gets a new key, `<category>:<id of its oldest case>`,
 *    skipping members whose key is already taken, so the key of an unchanged
 *    cluster is the same on every run;
 * 3. active articles no pattern claimed are to be retired.
 *
 * Manual articles must not be passed in: they have no pattern.
 */
export function planArticles(patterns: readonly DetectedPattern[], existing: readonly KnownArticle[], opts: { minOverlap?: number } = {}): ArticlePlan {
  const minOverlap = opts.minOverlap ?? DEFAULT_MIN_OVERLAP;
  const articleSets = existing.map((a) => new Set(a.caseIds));
  const candidates: { p: number; a: number; overlap: number }[] = [];
  patterns.forEach((pattern, p) => {
    const members = new Set(pattern.members.map((m) => m.caseId));
    articleSets.forEach((set, a) => {
      const overlap = jaccard(members, set);
      if (overlap >= minOverlap) candidates.push({ p, a, overlap });
    });
  });
  candidates.sort((x, y) => y.overlap - x.overlap || x.p - y.p || (existing[x.a]!.id < existing[y.a]!.id ? -1 : 1));
  const articleOf = new Map<number, { a: number; overlap: number }>();
  const claimed = new Set<number>();
  for (const c of candidates) {
    if (articleOf.has(c.p) || claimed.has(c.a)) continue;
    articleOf.set(c.p, { a: c.a, overlap: c.overlap });
    claimed.add(c.a);
  }

  const takenKeys = new Set(existing.map((a) => a.patternKey));
  const articles = patterns.map((pattern, p): PlannedArticle => {
    const match = articleOf.get(p);
    if (match) return { pattern, articleId: existing[match.a]!.id, patternKey: existing[match.a]!.patternKey, overlap: match.overlap };
    const key = pattern.caseIdsByAge.map((id) => `${pattern.category}:${id}`).find((k) => !takenKeys.has(k));
    // Every member's key taken means each member is the oldest case of another article: vanishingly rare, but still unique.
    const patternKey = key ?? `${pattern.category}:${pattern.caseIdsByAge[0]}:${fingerprintOf(pattern.caseIdsByAge).slice(0, 12)}`;
    takenKeys.add(patternKey);
    return { pattern, articleId: undefined, patternKey, overlap: 0 };
  });
  const retire = existing.filter((a, i) => a.status === 'active' && !claimed.has(i)).map((a) => a.id);
  return { articles, retire };
}

/** Bumped when the article format changes, so every article is rewritten once. */
const FINGERPRINT_VERSION = 'kbflow-article-v1';

/**
 * SHA-256 over the sorted `caseId:version` of an article's cases: the same
 * cases at the same versions give the same fingerprint, and any change to a
 * linked case (its version is bumped by trigger) gives another.
 */
export function sourceFingerprint(cases: readonly { caseId: string; version: number }[]): string {
  return fingerprintOf(cases.map((c) => `${c.caseId}:${c.version}`));
}

function fingerprintOf(lines: readonly string[]): string {
  return createHash('sha256')
    .update(`${FINGERPRINT_VERSION}\n${[...lines].sort().join('\n')}`)
    .digest('hex');
}
