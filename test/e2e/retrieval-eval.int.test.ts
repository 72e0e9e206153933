import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { formatReport, indexGuides, loadQuestionSet, runEvaluation, type EvaluationReport, type QuestionSet } from '@kbflow/eval';
import { apiClient, artifactDir, createTestDatabase, SHARED_DATA, startStack, testRedisUrl, uniquePrefix, type Stack, type TestDatabase } from '@kbflow/testing';
import { Redis } from 'ioredis';

// The retrieval evaluation of `./kbflow eval`, through the same module, on
// the shipped question set: the 28 RHDH 1.8 guides ingested as records into
// the real api, embedder and aggregator (offline hashing embedder, LanceDB),
// then the 501 questions asked through /v1/search in each mode.
const QUESTION_SET = path.join(SHARED_DATA, 'qa/rhdh-1.8-docs-qa-501');
const KEY = 'eval-dev-key';
const KNOWLEDGE_BASE = 'eval-rhdh';

let database: TestDatabase;
let stack: Stack;
let lanceDir: string;
let prefix: string;
let set: QuestionSet;
let report: EvaluationReport;

const client = apiClient(() => stack.apiUrl, KEY);

beforeAll(async () => {
  set = await loadQuestionSet(QUESTION_SET);
  database = await createTestDatabase();
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-eval-lance-'));
  prefix = uniquePrefix('eval');
  stack = await startStack(
    {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      KBFLOW_QUEUE_PREFIX: prefix,
      KBFLOW_LANCEDB_DIR: lanceDir,
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'eval-admin-key',
      // Ranking quality, not the latency trade: on a machine loaded by the
      // rest of the suite a keyword half could run past the 40 ms budget
      // and make the hybrid figures depend on timing.
      KBFLOW_KEYWORD_BUDGET_MS: '0',
      LOG_LEVEL: 'warn',
    },
    { logDir: artifactDir('e2e-retrieval-eval'), services: ['api', 'embedder', 'aggregator'] },
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await database?.drop();
  if (lanceDir) await rm(lanceDir, { recursive: true, force: true });
  const redis = new Redis(testRedisUrl());
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
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
