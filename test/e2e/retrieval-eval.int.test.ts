import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { formatReport, indexGuides, loadQuestionSet, runEvaluation, type EvaluationReport, type QuestionSet } from '@kbflow/eval';
import { apiClient, artifactDir, SHARED_DATA, startE2eStack, type E2eStack, type Stack } from '@kbflow/testing';

// The retrieval evaluation of `./kbflow eval`, through the same module, on
// the shipped question set: the 28 RHDH 1.8 guides ingested as records into
// the real api, embedder and aggregator (offline hashing embedder, LanceDB),
// then the 501 questions asked through /v1/search in each mode.
const QUESTION_SET = path.join(SHARED_DATA, 'qa/rhdh-1.8-docs-qa-501');
const KEY = 'eval-dev-key';
const KNOWLEDGE_BASE = 'eval-rhdh';

let e2e: E2eStack;
let stack: Stack;
let set: QuestionSet;
let report: EvaluationReport;

const client = apiClient(() => stack.apiUrl, KEY);

beforeAll(async () => {
  set = await loadQuestionSet(QUESTION_SET);
  e2e = await startE2eStack('eval', {
    services: ['api', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-retrieval-eval'),
    env: {
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'eval-admin-key',
      // Ranking quality, not the latency trade: on a machine loaded by the
      // rest of the suite a keyword half could run past the budget and
      // make the hybrid figures depend on timing (the budget has tests of
      // its own: packages/db/test/keyword-search.int.test.ts).
      KBFLOW_KEYWORD_BUDGET_MS: '0',
      LOG_LEVEL: 'warn',
    },
  });
  stack = e2e.stack;
}, 120_000);

afterAll(async () => {
  await e2e?.teardown();
}, 60_000);

describe('retrieval evaluation on the RHDH 1.8 question set', () => {
  it('indexes the guides as records and asks every question in every mode, without a failed search', async () => {
    report = await runEvaluation(set, { call: client.call, knowledgeBase: KNOWLEDGE_BASE, topK: 10, concurrency: 4 });
    process.stdout.write(`\n${formatReport(report)}\n`);
    expect(report.index).toMatchObject({ records: 28, accepted: 28, unchanged: 0 });
    expect(report.identifiable).toBe(501);
    expect(report.excluded).toEqual([]);
    expect(report.modes.map((m) => [m.mode, m.questions, m.errors])).toEqual([
      ['hybrid', 501, 0],
      ['vector', 501, 0],
      ['keyword', 501, 0],
    ]);
  }, 240_000);

  it('hybrid retrieval beats vector-only and keyword-only on hit@5', () => {
    const [hybrid, vector, keyword] = report.modes;
    expect(hybrid!.hitAt5).toBeGreaterThan(vector!.hitAt5);
    expect(hybrid!.hitAt5).toBeGreaterThan(keyword!.hitAt5);
    // Not chance level: a relevant chunk is in the top 5 for most questions.
    expect(hybrid!.hitAt5).toBeGreaterThan(0.5);
  });

  it('indexing the same guides again changes nothing', async () => {
    const again = await indexGuides(set.guides, { call: client.call, knowledgeBase: KNOWLEDGE_BASE });
    expect(again).toMatchObject({ records: 28, accepted: 28, unchanged: 28 });
  }, 60_000);
});
