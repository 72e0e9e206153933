import type { Embedder } from '@kbflow/embeddings';
import { learnBoilerplate } from './case-boilerplate.ts';
import { clusterBySimilarity } from './case-clustering.ts';

/** What pattern detection reads of a case. */
export interface PatternCase {
  id: string;
  /** Set by case sync; null until the case has been synced (such cases are skipped). */
  category: string | null;
  subject: string;
  description: string;
  createdAt: Date;
}

/** A recurring problem: at least `minCases` similar cases of one category. */
export interface DetectedPattern {
  category: string;
  /** Most representative first (the medoid), with each case's mean cosine similarity to the others. */
  members: { caseId: string; similarity: number }[];
  /** The member ids oldest first (created, then id): the candidates for a new pattern key. */
  caseIdsByAge: string[];
}

export interface PatternOptions {
  /** Whose cases these are: the embedding cache is keyed by it (without it, nothing is cached). */
  tenantId?: string;
  /** KBFLOW_KNOWLEDGE_MIN_CASES */
  minCases: number;
  /** KBFLOW_KNOWLEDGE_SIMILARITY: a member's mean cosine similarity to the other members. */
  similarity: number;
  /** Characters of subject + description embedded per case (default 2,000). */
  maxChars?: number;
  /** Texts per embedder call (default 128). */
  batchSize?: number;
}

export interface PatternDetection {
  patterns: DetectedPattern[];
  /** Each considered case's description with its category's template lines removed. */
  cleanDescriptions: Map<string, string>;
  /** Cases considered and cases skipped because case sync has not categorized them yet. */
  considered: number;
  skippedUncategorized: number;
}

const DEFAULT_MAX_CHARS = 2000;
const DEFAULT_BATCH = 128;

async function embedAll(embedder: Embedder, texts: string[], batchSize: number, tenantId: string | undefined): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += batchSize) out.push(...(await embedder.embed(texts.slice(i, i + batchSize), tenantId ? { tenantId } : {})));
  return out;
}

/**
 * Finds recurring patterns among a knowledge base's cases, category by
 * category (a pattern never mixes categories).
 *
 * Cases without a category are skipped: case sync gives every case it has
 * seen a category (`other` when no rule matches), so null means "not synced
 * yet", and the case joins at the first run after its sync.
 *
 * Each case is represented by normalize(e(subject) + e(subject + description)),
 * its description stripped of its category's template lines (see
 * case-boilerplate.ts) and the text cut at `maxChars`. The subject counts
 * twice because it names the problem, while descriptions carry logs and
 * system reports that survive template stripping: on the 3,000 GitHub issues
 * the subject-only-once variant formed groups of issues that shared nothing
 * but an unfilled template or a VS Code process dump.
 */
export async function detectPatterns(cases: readonly PatternCase[], embedder: Embedder, opts: PatternOptions): Promise<PatternDetection> {
  const byCategory = new Map<string, PatternCase[]>();
  let skippedUncategorized = 0;
  for (const c of cases) {
    if (c.category === null) {
      skippedUncategorized++;
      continue;
    }
    const list = byCategory.get(c.category) ?? [];
    list.push(c);
    byCategory.set(c.category, list);
  }
  const patterns: DetectedPattern[] = [];
  const cleanDescriptions = new Map<string, string>();
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  for (const category of [...byCategory.keys()].sort()) {
    // Oldest first: clustering breaks ties by input order, so results depend on the data only.
    const group = byCategory.get(category)!.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const strip = learnBoilerplate(
      group.map((c) => c.description),
      { minCount: opts.minCases },
    );
    for (const c of group) cleanDescriptions.set(c.id, strip(c.description));
    if (group.length < opts.minCases) continue;
    const subjects = await embedAll(
      embedder,
      group.map((c) => c.subject.slice(0, maxChars)),
      batchSize,
      opts.tenantId,
    );
    const full = await embedAll(
      embedder,
      group.map((c) => `${c.subject}\n\n${cleanDescriptions.get(c.id)}`.slice(0, maxChars)),
      batchSize,
      opts.tenantId,
    );
    const vectors = full.map((v, i) => combine(subjects[i]!, v));
    const clusters = await clusterBySimilarity(vectors, { threshold: opts.similarity, minSize: opts.minCases });
    for (const cluster of clusters) {
      patterns.push({
        category,
        members: cluster.members.map((m, k) => ({ caseId: group[m]!.id, similarity: cluster.similarities[k]! })),
        caseIdsByAge: [...cluster.members].sort((a, b) => a - b).map((m) => group[m]!.id),
      });
    }
  }
  return { patterns, cleanDescriptions, considered: cases.length - skippedUncategorized, skippedUncategorized };
}

/** normalize(a + b) of two unit vectors. */
function combine(a: number[], b: number[]): number[] {
  const out = a.map((x, k) => x + b[k]!);
  const norm = Math.hypot(...out);
  return norm === 0 ? out : out.map((x) => x / norm);
}
