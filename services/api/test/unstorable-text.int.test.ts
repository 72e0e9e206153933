// Valid records, cases and knowledge articles whose text carries NUL bytes
// and lone UTF-16 surrogates (as JSON `\u` escapes, the only way they reach
// the API). PostgreSQL refuses NUL and Prisma refuses lone surrogates, so a
// route that passes them on answers 500. They are cleaned instead, as
// domain/storable-text.ts says: NUL dropped, a lone surrogate made U+FFFD.
// Seeded like the fuzz test (fuzz.int.test.ts), with the same variable:
//   KBFLOW_FUZZ_SEED=<seed> jest services/api/test/unstorable-text.int.test.ts
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { recordUrl } from '../src/domain/record-document.ts';
import { storable } from '../src/domain/storable-text.ts';
import { Fuzz } from './support/fuzz.ts';
import { startTestApi, type SendResult, type TestApi } from './support/test-api.ts';

const SEED = Number(process.env.KBFLOW_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
const ROUNDS = 12;
const SOURCE = 'unstorable';

const clean = (text: string) => storable(text) as string;

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ label: 'unstorable' });
});

afterAll(async () => {
  await api.close();
});

/** The response, when it is the expected 2xx; otherwise a failure that shows what was sent and what came back. */
function expectStatus(res: SendResult, status: number, sent: unknown): void {
  expect({ status: res.status, sent, body: res.status === status ? undefined : res.text.slice(0, 300) }).toEqual({ status, sent, body: undefined });
}

describe('text with NUL bytes and lone surrogates', () => {
  it(`is stored cleaned by records, cases and knowledge articles, on create and on change (seed ${SEED})`, async () => {
    const f = new Fuzz(SEED);
    for (let i = 0; i < ROUNDS; i++) {
      // Records, as a JSON array or NDJSON: every text field and a metadata column.
      const rows = Array.from({ length: f.int(1, 3) }, (_, j) => ({
        id: `rec-${i}-${j}-${f.pick(['\u0000', '\ud800', 'a\u0000\udfff'])}`,
        title: f.unstorable(),
        body: f.unstorable(),
        note: f.unstorable(),
      }));
      const ndjson = f.bool();
      const recordsRes = await api.send('POST', `/v1/records?source=${SOURCE}`, {
        body: ndjson ? rows.map((r) => JSON.stringify(r)).join('\n') : JSON.stringify(rows),
        headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
      });
      expectStatus(recordsRes, 202, rows);
      expect(recordsRes.json).toMatchObject({ received: rows.length, accepted: rows.length, invalid: 0 });
      for (const row of rows) {
        const doc = await api.db.document.findFirst({ where: { url: recordUrl(SOURCE, clean(row.id)) }, select: { markdown: true, metadata: true } });
        expect({ id: row.id, markdownHasBody: doc?.markdown.includes(clean(row.body)), metadata: doc?.metadata }).toEqual({
          id: row.id,
          markdownHasBody: true,
          metadata: { note: clean(row.note) },
        });
      }

      // A case: one object, then a change.
      const kase = {
        externalId: `case-${i}-${f.pick(['\u0000', '\udc00'])}`,
        subject: f.unstorable(),
        description: f.unstorable(),
        metadata: { [`k${f.pick(['\u0000', '\ud800'])}`]: f.unstorable() },
      };
      const created = await api.send('POST', '/v1/cases', { body: kase });
      expectStatus(created, 201, kase);
      expect(created.json).toMatchObject({
        externalId: clean(kase.externalId),
        subject: clean(kase.subject).trim(),
        description: clean(kase.description),
        metadata: storable(kase.metadata) as object,
      });
      const caseChange = { resolution: f.unstorable(), status: `closed${f.pick(['\u0000', '\ud800'])}` };
      const changed = await api.send('PATCH', `/v1/cases/${created.json.id}`, { body: caseChange });
      expectStatus(changed, 200, caseChange);
      expect(changed.json).toMatchObject({ resolution: clean(caseChange.resolution), status: clean(caseChange.status) });

      // A manual knowledge article, then a change.
      const article = { title: f.unstorable(), summary: f.unstorable(), symptoms: [f.unstorable()], body: f.bool() ? f.unstorable() : undefined };
      const written = await api.send('POST', '/v1/knowledge', { body: article });
      expectStatus(written, 201, article);
      expect(written.json).toMatchObject({
        title: clean(article.title).trim(),
        summary: clean(article.summary).trim(),
        symptoms: [clean(article.symptoms[0]!).trim()],
      });
      const articleChange = { summary: f.unstorable(), resolutionSteps: [f.unstorable()] };
      const rewritten = await api.send('PATCH', `/v1/knowledge/${written.json.id}`, { body: articleChange });
      expectStatus(rewritten, 200, articleChange);
      expect(rewritten.json).toMatchObject({
        summary: clean(articleChange.summary).trim(),
        resolutionSteps: [clean(articleChange.resolutionSteps[0]!).trim()],
      });
    }
    expect(await api.db.case.count()).toBe(ROUNDS);
    expect(await api.db.knowledgeArticle.count()).toBe(ROUNDS);
  }, 120_000);

  it('made only of NUL bytes is an empty field, refused with a 400 naming it, and nothing is stored', async () => {
    const before = { cases: await api.db.case.count(), articles: await api.db.knowledgeArticle.count() };
    const kase = await api.send('POST', '/v1/cases', { body: { externalId: 'nul-only', subject: '\u0000\u0000' } });
    expect([kase.status, kase.json?.error?.field]).toEqual([400, 'subject']);
    const article = await api.send('POST', '/v1/knowledge', { body: { title: '\u0000', summary: 'S' } });
    expect([article.status, article.json?.error?.field]).toEqual([400, 'title']);
    const records = await api.send('POST', '/v1/records', { body: [{ id: '\u0000', body: 'b' }] });
    expect([records.status, records.json?.errors]).toEqual([400, [{ row: 1, field: 'id', reason: 'must not be empty' }]]);
    // A filter of stored text: NUL never matches, and alone it leaves nothing to filter on.
    const list = await api.send('GET', '/v1/cases?status=%00');
    expect([list.status, list.json?.error?.field]).toEqual([400, 'status']);
    expect({ cases: await api.db.case.count(), articles: await api.db.knowledgeArticle.count() }).toEqual(before);
  });
});
