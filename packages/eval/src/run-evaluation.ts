import pLimit from 'p-limit';
import { firstRelevantRank, RETRIEVAL_MODES, summarize, type ModeSummary, type QuestionOutcome, type RetrievalMode } from './metrics.ts';
import type { Guide, QuestionSet } from './question-set.ts';
import { isRelevant, locateQuestions, type ExcludedQuestion, type LocatedQuestion } from './relevance.ts';

/**
 * One request to a running kbflow API (`KBFLOW_API_URL`) with the tenant's
 * key, `body` as JSON. It may throw on an error status (the CLI's does);
 * either way the evaluation checks the status it gets.
 */
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

export type Progress = (event: { phase: 'index' | 'search'; done: number; total: number }) => void;

export interface EvaluationOptions {
  call: ApiCall;
  knowledgeBase: string;
  /** The records' `source`; their documents' URLs are `record://<source>/<guide>`. */
  source?: string;
  modes?: readonly RetrievalMode[];
  topK?: number;
  /** Searches in flight at once. */
  concurrency?: number;
  /** Largest JSON body per `POST /v1/records` (the API's limit is KBFLOW_MAX_BODY_BYTES, 1 MiB by default). */
  maxBatchBytes?: number;
  /** How long an ingest task may take. */
  indexTimeoutMs?: number;
  onProgress?: Progress;
}

export interface IndexSummary {
  records: number;
  accepted: number;
  unchanged: number;
  taskIds: string[];
}

export interface EvaluationReport {
  questionSet: { name: string; format: string; guides: number; questions: number };
  /** Questions whose passage was found in a guide: the ones the figures are over. */
  identifiable: number;
  /** Of those, questions whose passage has more than one source guide. */
  multiSource: number;
  excluded: ExcludedQuestion[];
  knowledgeBase: string;
  topK: number;
  index: IndexSummary;
  modes: ModeSummary[];
  outcomes: QuestionOutcome[];
}

export const DEFAULT_SOURCE = 'rhdh-docs';
const DEFAULT_BATCH_BYTES = 512 * 1024;

function expectStatus(res: { status: number; json: any }, ok: number[], what: string): any {
  if (!ok.includes(res.status)) throw new Error(`${what} answered ${res.status}: ${res.json?.error?.message ?? JSON.stringify(res.json)}`);
  return res.json;
}

/** Guides in batches whose JSON stays under `maxBytes` (a guide larger than that goes alone). */
export function batchBySize(guides: readonly Guide[], maxBytes: number): Guide[][] {
  const batches: Guide[][] = [];
  let current: Guide[] = [];
  let size = 2;
  for (const guide of guides) {
    const bytes = Buffer.byteLength(JSON.stringify(guide)) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      batches.push(current);
      current = [];
      size = 2;
    }
    current.push(guide);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

async function waitForTask(call: ApiCall, taskId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = expectStatus(await call('GET', `/v1/tasks/${taskId}`), [200], `GET /v1/tasks/${taskId}`);
    if (task.state === 'completed') return;
    if (task.state === 'failed') throw new Error(`ingest task ${taskId} failed: ${task.error ?? 'no error given'}`);
    if (Date.now() > deadline) throw new Error(`ingest task ${taskId} still ${task.state} after ${timeoutMs} ms: ${JSON.stringify(task.progress)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Ingests the guides as records (`POST /v1/records`) and waits for their
 * tasks. Unchanged records are skipped by the server, so indexing an
 * already indexed corpus again costs a hash comparison per guide.
 */
export async function indexGuides(guides: readonly Guide[], opts: EvaluationOptions): Promise<IndexSummary> {
  const source = opts.source ?? DEFAULT_SOURCE;
  const query = new URLSearchParams({ knowledgeBase: opts.knowledgeBase, source });
  const summary: IndexSummary = { records: guides.length, accepted: 0, unchanged: 0, taskIds: [] };
  const batches = batchBySize(guides, opts.maxBatchBytes ?? DEFAULT_BATCH_BYTES);
  let done = 0;
  for (const batch of batches) {
    const body = batch.map((g) => ({ id: g.id, title: g.title, body: g.body }));
    const json = expectStatus(await opts.call('POST', `/v1/records?${query}`, body), [200, 202], 'POST /v1/records');
    // A guide refused would silently lower every figure: stop instead.
    if (json.invalid > 0) {
      const first = json.errors?.[0];
      throw new Error(
        `POST /v1/records refused ${json.invalid} guide(s)${first ? `, first: row ${first.row} ${first.field ?? ''} ${first.reason ?? ''}` : ''}`,
      );
    }
    summary.accepted += json.accepted ?? 0;
    summary.unchanged += json.unchanged ?? 0;
    if (json.taskId) {
      summary.taskIds.push(json.taskId);
      await waitForTask(opts.call, json.taskId, opts.indexTimeoutMs ?? 600_000);
    }
    done += batch.length;
    opts.onProgress?.({ phase: 'index', done, total: guides.length });
  }
  return summary;
}

/** The guide a search result comes from, by its document URL `record://<source>/<guide>`. */
export function guideOfUrl(url: string, source: string): string | undefined {
  const prefix = `record://${source}/`;
  return url.startsWith(prefix) ? decodeURIComponent(url.slice(prefix.length)) : undefined;
}

/**
 * Asks every located question in every mode through `POST /v1/search`, at
 * most `concurrency` at a time, question by question so the modes share the
 * same load, and judges each result list.
 */
export async function askQuestions(questions: readonly LocatedQuestion[], opts: EvaluationOptions): Promise<QuestionOutcome[]> {
  const source = opts.source ?? DEFAULT_SOURCE;
  const modes = opts.modes ?? RETRIEVAL_MODES;
  const topK = opts.topK ?? 10;
  const limit = pLimit(opts.concurrency ?? 4);
  const total = questions.length * modes.length;
  let done = 0;
  const ask = async (q: LocatedQuestion, mode: RetrievalMode): Promise<QuestionOutcome> => {
    const started = performance.now();
    const base = { questionId: q.id, category: q.category, mode };
    try {
      const res = await opts.call('POST', '/v1/search', { query: q.question, topK, mode, knowledgeBase: opts.knowledgeBase });
      const latencyMs = performance.now() - started;
      const json = expectStatus(res, [200], 'POST /v1/search');
      const results = json.results as { url: string; text: string }[];
      const rank = firstRelevantRank(results, (r) => isRelevant(q.passages, { guide: guideOfUrl(r.url, source), text: r.text }), topK);
      return { ...base, firstRelevantRank: rank, latencyMs };
    } catch (error) {
      return { ...base, firstRelevantRank: null, latencyMs: performance.now() - started, error: (error as Error).message };
    } finally {
      opts.onProgress?.({ phase: 'search', done: ++done, total });
    }
  };
  return Promise.all(questions.flatMap((q) => modes.map((mode) => limit(() => ask(q, mode)))));
}

/**
 * The whole evaluation: locate each question's passage in the guides,
 * index the guides, ask the located questions in each mode, and sum up.
 */
export async function runEvaluation(set: QuestionSet, opts: EvaluationOptions): Promise<EvaluationReport> {
  const topK = opts.topK ?? 10;
  const { located, excluded } = locateQuestions(set.questions, set.guides);
  const index = await indexGuides(set.guides, opts);
  const outcomes = await askQuestions(located, { ...opts, topK });
  return {
    questionSet: { name: set.name, format: set.format, guides: set.guides.length, questions: set.questions.length },
    identifiable: located.length,
    multiSource: located.filter((q) => q.passages.some((p) => p.sourceGuides.length > 1)).length,
    excluded,
    knowledgeBase: opts.knowledgeBase,
    topK,
    index,
    modes: summarize(outcomes, topK),
    outcomes,
  };
}
