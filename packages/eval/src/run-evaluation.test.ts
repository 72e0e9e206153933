import { describe, expect, it } from '@jest/globals';
import type { QuestionSet } from './question-set.ts';
import { batchBySize, guideOfUrl, indexGuides, runEvaluation, type ApiCall } from './run-evaluation.ts';

const set: QuestionSet = {
  name: 'tiny',
  dir: '/tmp/tiny',
  format: 'ragas-classification-csv',
  guides: [
    { id: 'alpha', title: 'Alpha', body: '# Alpha\n\nThe quick brown fox jumps over the lazy dog near the old river bank.' },
    { id: 'beta', title: 'Beta', body: '# Beta\n\nOperators are installed on a cluster by an administrator with care.' },
  ],
  questions: [
    { id: 'q1', question: 'What does the fox do?', category: 'animals', contexts: ['# Alpha The quick brown fox jumps over the lazy dog'] },
    { id: 'q2', question: 'Who installs operators?', category: 'ops', contexts: ['Operators are installed on a cluster by an administrator'] },
    { id: 'q3', question: 'Sailing?', category: 'ops', contexts: ['A passage about sailing boats found in no guide whatsoever.'] },
  ],
};

const chunk = (guide: string, text: string) => ({ url: `record://rhdh-docs/${guide}`, text });

/** A stand-in for the API: records accepted into one task, searches answered per mode. */
function fakeApi(opts: { failTask?: boolean; refuse?: boolean } = {}) {
  const requests: { method: string; path: string; body?: unknown }[] = [];
  const call: ApiCall = async (method, path, body) => {
    requests.push({ method, path, body });
    if (path.startsWith('/v1/records')) {
      if (opts.refuse)
        return { status: 202, json: { taskId: 't1', accepted: 1, unchanged: 0, invalid: 1, errors: [{ row: 2, field: 'body', reason: 'is required' }] } };
      return { status: 202, json: { taskId: 't1', accepted: 2, unchanged: 0, invalid: 0, errors: [] } };
    }
    if (path === '/v1/tasks/t1') return { status: 200, json: opts.failTask ? { state: 'failed', error: 'embedder down' } : { state: 'completed' } };
    const { query, mode } = body as { query: string; mode: string };
    if (mode === 'keyword') return { status: 504, json: { error: { code: 'timeout', message: 'no answer within 30000 ms' } } };
    const fox = chunk('alpha', 'Alpha\n\nThe quick brown fox jumps over the lazy dog near the old river bank.');
    const ops = chunk('beta', 'Beta\n\nOperators are installed on a cluster by an administrator with care.');
    const results = query.includes('fox') ? [ops, fox] : mode === 'hybrid' ? [ops] : [fox];
    return { status: 200, json: { results } };
  };
  return { call, requests };
}

describe('batchBySize', () => {
  it('keeps each batch under the byte limit, and a larger guide alone', () => {
    const guides = [
      { id: 'a', title: 'A', body: 'x'.repeat(100) },
      { id: 'b', title: 'B', body: 'x'.repeat(100) },
      { id: 'c', title: 'C', body: 'x'.repeat(1000) },
    ];
    expect(batchBySize(guides, 300).map((b) => b.map((g) => g.id))).toEqual([['a', 'b'], ['c']]);
    expect(batchBySize(guides, 10_000)).toHaveLength(1);
  });
});

describe('guideOfUrl', () => {
  it('reads the guide from a record URL of the source, and nothing else', () => {
    expect(guideOfUrl('record://rhdh-docs/audit-log', 'rhdh-docs')).toBe('audit-log');
    expect(guideOfUrl('record://rhdh-docs/a%20b', 'rhdh-docs')).toBe('a b');
    expect(guideOfUrl('record://other/audit-log', 'rhdh-docs')).toBeUndefined();
    expect(guideOfUrl('https://docs.example/audit-log', 'rhdh-docs')).toBeUndefined();
  });
});

describe('runEvaluation against a stand-in API', () => {
  it('indexes as records, asks the located questions in each mode, and counts failures as misses', async () => {
    const api = fakeApi();
    const progress: string[] = [];
    const report = await runEvaluation(set, {
      call: api.call,
      knowledgeBase: 'eval-kb',
      topK: 5,
      onProgress: (e) => progress.push(`${e.phase} ${e.done}/${e.total}`),
    });

    const ingest = api.requests.filter((r) => r.path.startsWith('/v1/records'));
    expect(ingest).toEqual([{ method: 'POST', path: '/v1/records?knowledgeBase=eval-kb&source=rhdh-docs', body: set.guides }]);
    expect(report.index).toEqual({ records: 2, accepted: 2, unchanged: 0, taskIds: ['t1'] });

    expect(report.identifiable).toBe(2);
    expect(report.excluded.map((q) => q.id)).toEqual(['q3']);
    const searches = api.requests.filter((r) => r.path === '/v1/search');
    expect(searches).toHaveLength(6);
    expect(searches[0]!.body).toEqual({ query: 'What does the fox do?', topK: 5, mode: 'hybrid', knowledgeBase: 'eval-kb' });

    const byMode = Object.fromEntries(report.modes.map((m) => [m.mode, m]));
    // q1: the fox chunk second in every answering mode; q2: the operators chunk first in hybrid only.
    expect(byMode.hybrid).toMatchObject({ questions: 2, hitAt1: 0.5, hitAt3: 1, hitAt5: 1, mrr: 0.75, errors: 0 });
    expect(byMode.vector).toMatchObject({ questions: 2, hitAt1: 0, hitAt3: 0.5, hitAt5: 0.5, mrr: 0.25, errors: 0 });
    expect(byMode.keyword).toMatchObject({ questions: 2, hitAt5: 0, errors: 2 });
    expect(report.outcomes.find((o) => o.mode === 'keyword')!.error).toMatch(/answered 504: no answer within 30000 ms/);
    expect(progress.at(-1)).toBe('search 6/6');
    expect(progress).toContain('index 2/2');
  });

  it('stops when the API refuses a guide, naming the row', async () => {
    await expect(indexGuides(set.guides, { call: fakeApi({ refuse: true }).call, knowledgeBase: 'kb' })).rejects.toThrow(
      'POST /v1/records refused 1 guide(s), first: row 2 body is required',
    );
  });

  it('stops when the ingest task fails, with its error', async () => {
    await expect(indexGuides(set.guides, { call: fakeApi({ failTask: true }).call, knowledgeBase: 'kb' })).rejects.toThrow(
      'ingest task t1 failed: embedder down',
    );
  });
});
