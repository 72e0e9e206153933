/** Retrieval modes of `/v1/search`. */
export const RETRIEVAL_MODES = ['hybrid', 'vector', 'keyword'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];

/** What one question asked in one mode gave. */
export interface QuestionOutcome {
  questionId: string;
  category: string;
  mode: RetrievalMode;
  /** 1-based rank of the first relevant result; null when none of the results is relevant. */
  firstRelevantRank: number | null;
  /** Round trip of the search request, as the client saw it. */
  latencyMs: number;
  /** The request failed: counted as a miss, and reported. */
  error?: string;
}

export interface ModeSummary {
  mode: RetrievalMode;
  questions: number;
  hitAt1: number;
  hitAt3: number;
  hitAt5: number;
  /** Mean reciprocal rank of the first relevant result within the top k (0 beyond it). */
  mrr: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  errors: number;
  /** hit@5 per question category. */
  byCategory: Record<string, { questions: number; hitAt5: number }>;
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** 1-based rank of the first result `relevant` accepts among the first `topK`, or null. */
export function firstRelevantRank<T>(results: readonly T[], relevant: (result: T) => boolean, topK: number): number | null {
  const index = results.slice(0, topK).findIndex(relevant);
  return index === -1 ? null : index + 1;
}

const share = (n: number, of: number) => (of === 0 ? 0 : Number((n / of).toFixed(4)));

/**
 * hit@1/3/5, MRR over the top `topK` and latency percentiles per mode, and
 * hit@5 per category. Every outcome counts, failed requests as misses.
 */
export function summarize(outcomes: readonly QuestionOutcome[], topK: number): ModeSummary[] {
  const modes = RETRIEVAL_MODES.filter((m) => outcomes.some((o) => o.mode === m));
  return modes.map((mode) => {
    const mine = outcomes.filter((o) => o.mode === mode);
    const within = (k: number) => mine.filter((o) => o.firstRelevantRank !== null && o.firstRelevantRank <= k).length;
    const reciprocal = mine.reduce((sum, o) => sum + (o.firstRelevantRank !== null && o.firstRelevantRank <= topK ? 1 / o.firstRelevantRank : 0), 0);
    const byCategory: ModeSummary['byCategory'] = {};
    for (const category of [...new Set(mine.map((o) => o.category))].sort()) {
      const inCategory = mine.filter((o) => o.category === category);
      const hits = inCategory.filter((o) => o.firstRelevantRank !== null && o.firstRelevantRank <= 5).length;
      byCategory[category] = { questions: inCategory.length, hitAt5: share(hits, inCategory.length) };
    }
    const latencies = mine.filter((o) => !o.error).map((o) => o.latencyMs);
    return {
      mode,
      questions: mine.length,
      hitAt1: share(within(1), mine.length),
      hitAt3: share(within(3), mine.length),
      hitAt5: share(within(5), mine.length),
      mrr: share(reciprocal, mine.length),
      latencyP50Ms: Math.round(percentile(latencies, 50)),
      latencyP95Ms: Math.round(percentile(latencies, 95)),
      errors: mine.filter((o) => o.error).length,
      byCategory,
    };
  });
}
