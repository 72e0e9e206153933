import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CaseRepository, KnowledgeRepository } from '@kbflow/db';
import { QueueName } from '@kbflow/queues';
import { OTHER_KEY, startTestApi, type TestApi } from './support/test-api.ts';

// /v1/knowledge in-process over real Redis and PostgreSQL: manual articles
// are stored as weighted article documents, generated ones list their cases,
// and every bad request is a 4xx naming the field that writes nothing.
let api: TestApi;

const MANUAL = {
  title: 'Printer jams on duplex printing',
  summary: 'Office printers jam when duplex printing is on and the tray holds recycled paper.',
  symptoms: ['Paper jam error E13', 'Duplex unit stops mid-page'],
  resolutionSteps: ['Switch to 80 g/m² paper', 'Clean the duplex rollers'],
  category: 'hardware',
};

async function embedJobs(name: 'embed-documents' | 'delete-vectors') {
  const jobs = await api.producer.queue(QueueName.embed).getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed']);
  return jobs.filter((j) => j.name === name);
}

const articleCount = () => api.db.knowledgeArticle.count();

beforeAll(async () => {
  api = await startTestApi({ label: 'knowledge' });
}, 60_000);

afterAll(async () => {
  await api.close();
}, 60_000);

describe('/v1/knowledge', () => {
  let manualId: string;

  it('POST stores a manual article as a document and queues its weighted embedding', async () => {
    const res = await api.send('POST', '/v1/knowledge', { body: MANUAL });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ ...MANUAL, generatedBy: 'manual', status: 'active', caseCount: 0, linkedCases: [] });
    manualId = res.json.id;
    expect(res.json.patternKey).toBe(`manual:${manualId}`);
    expect(res.json.body).toContain('# Printer jams on duplex printing');
    expect(res.json.body).toContain('1. Switch to 80 g/m² paper');

    const doc = await api.db.document.findFirstOrThrow({ where: { url: `article://${manualId}` }, include: { chunks: true } });
    expect(doc).toMatchObject({ contentType: 'article', source: 'knowledge', title: MANUAL.title, markdown: res.json.body, status: 'indexing' });
    expect((doc.metadata as { summary?: string }).summary).toBe(MANUAL.summary);
    expect(doc.chunks.length).toBeGreaterThan(0);
    const jobs = await embedJobs('embed-documents');
    expect(jobs.map((j) => j.data)).toEqual([expect.objectContaining({ documentIds: [doc.id], weighting: 'article', staleChunkIds: [] })]);
  });

  it('GET lists the tenant’s articles with filters and pages, and never another tenant’s', async () => {
    const list = await api.send('GET', '/v1/knowledge');
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ total: 1, limit: 20, offset: 0 });
    expect(list.json.articles[0]).toMatchObject({ id: manualId, title: MANUAL.title, caseCount: 0 });
    expect(list.json.articles[0].body).toBeUndefined();
    expect((await api.send('GET', '/v1/knowledge?status=retired')).json.total).toBe(0);
    expect((await api.send('GET', '/v1/knowledge?category=hardware&limit=1')).json.total).toBe(1);
    expect((await api.send('GET', '/v1/knowledge?category=network')).json.total).toBe(0);
    expect((await api.send('GET', '/v1/knowledge', { key: OTHER_KEY })).json.total).toBe(0);
    expect((await api.send('GET', `/v1/knowledge/${manualId}`, { key: OTHER_KEY })).status).toBe(404);
    expect((await api.send('DELETE', `/v1/knowledge/${manualId}`, { key: OTHER_KEY })).status).toBe(404);
  });

  it('GET /:id shows a generated article with its linked cases, their similarity and version', async () => {
    const tenantId = (await api.db.tenant.findUniqueOrThrow({ where: { name: 'dev' } })).id;
    const knowledgeBaseId = await api.tenants.knowledgeBaseId(tenantId, 'default');
    const cases = new CaseRepository(api.db);
    const fields = (n: number) => ({
      externalId: `T-${n}`,
      subject: `VPN drops, report ${n}`,
      description: 'VPN error 809',
      resolution: '',
      status: 'open',
      priority: '',
      product: '',
      channel: '',
      metadata: {},
    });
    await cases.upsertMany(tenantId, knowledgeBaseId, [1, 2].map(fields));
    const rows = await api.db.case.findMany({ where: { tenantId }, orderBy: { externalId: 'asc' } });
    const id = '7d0f0c4e-0000-4000-8000-000000000001';
    await new KnowledgeRepository(api.db).writeArticle({
      articleId: id,
      mode: 'create',
      tenantId,
      knowledgeBaseId,
      patternKey: `network:${rows[0]!.id}`,
      category: 'network',
      title: 'VPN drops with error 809',
      summary: 'The VPN drops.',
      symptoms: ['VPN error 809'],
      resolutionSteps: [],
      body: '# VPN drops with error 809\n\nThe VPN drops.\n',
      generatedBy: 'extractive',
      sourceFingerprint: 'f'.repeat(64),
      status: 'active',
      links: rows.map((c, i) => ({ caseId: c.id, caseVersion: c.version, similarity: 0.9 - i / 10 })),
    });
    const res = await api.send('GET', `/v1/knowledge/${id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, generatedBy: 'extractive', caseCount: 2, body: '# VPN drops with error 809\n\nThe VPN drops.\n' });
    expect(res.json.linkedCases).toEqual([
      { caseId: rows[0]!.id, externalId: 'T-1', subject: 'VPN drops, report 1', similarity: 0.9, caseVersion: 1, currentVersion: 1 },
      { caseId: rows[1]!.id, externalId: 'T-2', subject: 'VPN drops, report 2', similarity: 0.8, caseVersion: 1, currentVersion: 1 },
    ]);
    expect((await api.send('GET', '/v1/knowledge?category=network')).json.articles[0]).toMatchObject({ id, caseCount: 2 });
  });

  it('answers bad input with a 4xx naming the field, and writes nothing', async () => {
    const before = await articleCount();
    const jobsBefore = (await embedJobs('embed-documents')).length;
    const cases: [string, string, object | string | undefined, number, string, string | undefined][] = [
      ['POST', '/v1/knowledge', {}, 400, 'invalid_field', 'title'],
      ['POST', '/v1/knowledge', { ...MANUAL, title: '   ' }, 400, 'invalid_field', 'title'],
      ['POST', '/v1/knowledge', { ...MANUAL, symptoms: 'jams' }, 400, 'invalid_field', 'symptoms'],
      ['POST', '/v1/knowledge', { ...MANUAL, resolutionSteps: ['ok', ''] }, 400, 'invalid_field', 'resolutionSteps.1'],
      ['POST', '/v1/knowledge', { ...MANUAL, category: 'Not A Slug' }, 400, 'invalid_field', 'category'],
      ['POST', '/v1/knowledge', { ...MANUAL, generatedBy: 'llm' }, 400, 'unknown_field', 'generatedBy'],
      ['POST', '/v1/knowledge', '{"title": ', 400, 'invalid_json', undefined],
      ['GET', '/v1/knowledge/not-a-uuid', undefined, 400, 'invalid_field', 'id'],
      ['GET', '/v1/knowledge/00000000-0000-4000-8000-000000000000', undefined, 404, 'knowledge_article_not_found', undefined],
      ['GET', '/v1/knowledge?limit=0', undefined, 400, 'invalid_field', 'limit'],
      ['GET', '/v1/knowledge?status=gone', undefined, 400, 'invalid_field', 'status'],
      ['GET', '/v1/knowledge?knowledgeBase=nope', undefined, 404, 'knowledge_base_not_found', 'knowledgeBase'],
      ['GET', '/v1/knowledge?sort=title', undefined, 400, 'unknown_field', 'sort'],
      ['PATCH', `/v1/knowledge/${manualId}`, {}, 400, 'invalid_field', undefined],
      ['PATCH', `/v1/knowledge/${manualId}`, { summary: '' }, 400, 'invalid_field', 'summary'],
      ['PATCH', `/v1/knowledge/${manualId}`, { status: 'retired' }, 400, 'unknown_field', 'status'],
      ['PATCH', '/v1/knowledge/00000000-0000-4000-8000-000000000000', { title: 'x' }, 404, 'knowledge_article_not_found', undefined],
      ['DELETE', '/v1/knowledge/not-a-uuid', undefined, 400, 'invalid_field', 'id'],
    ];
    for (const [method, path, body, status, code, field] of cases) {
      const res = await api.send(method, path, body === undefined ? {} : { body });
      expect([method, path, res.status, res.json?.error?.code, res.json?.error?.field]).toEqual([method, path, status, code, field]);
    }
    expect(await articleCount()).toBe(before);
    expect((await embedJobs('embed-documents')).length).toBe(jobsBefore);
    expect((await api.send('GET', `/v1/knowledge/${manualId}`)).json.title).toBe(MANUAL.title);
  });

  it('PATCH rewrites the article and its rendered body, keeps a hand-written body, and re-queues the embedding', async () => {
    const res = await api.send('PATCH', `/v1/knowledge/${manualId}`, { body: { title: 'Printers jam in duplex mode' } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ title: 'Printers jam in duplex mode', summary: MANUAL.summary, symptoms: MANUAL.symptoms });
    expect(res.json.body.startsWith('# Printers jam in duplex mode\n')).toBe(true);
    const doc = await api.db.document.findFirstOrThrow({ where: { url: `article://${manualId}` } });
    expect(doc.title).toBe('Printers jam in duplex mode');
    expect((await embedJobs('embed-documents')).filter((j) => j.data.documentIds[0] === doc.id)).toHaveLength(2);

    const custom = '# Duplex jams\n\nHand-written notes on the duplex unit and its rollers.\n';
    expect((await api.send('PATCH', `/v1/knowledge/${manualId}`, { body: { body: custom } })).json.body).toBe(custom.trim());
    const retitled = await api.send('PATCH', `/v1/knowledge/${manualId}`, { body: { title: 'Duplex printing jams' } });
    expect(retitled.json).toMatchObject({ title: 'Duplex printing jams', body: custom.trim() });
  });

  it('DELETE removes the article, its document and chunks, and queues the removal of its vectors', async () => {
    const doc = await api.db.document.findFirstOrThrow({ where: { url: `article://${manualId}` }, include: { chunks: true } });
    const res = await api.send('DELETE', `/v1/knowledge/${manualId}`);
    expect(res.status).toBe(204);
    expect(await api.db.knowledgeArticle.count({ where: { id: manualId } })).toBe(0);
    expect(await api.db.document.count({ where: { id: doc.id } })).toBe(0);
    expect(await api.db.chunk.count({ where: { documentId: doc.id } })).toBe(0);
    const deletes = await embedJobs('delete-vectors');
    expect(deletes.map((j) => j.data)).toEqual([
      expect.objectContaining({ documentIds: [doc.id], chunkIds: expect.arrayContaining(doc.chunks.map((c) => c.id)) }),
    ]);
    expect((await api.send('GET', `/v1/knowledge/${manualId}`)).status).toBe(404);
    expect((await api.send('DELETE', `/v1/knowledge/${manualId}`)).status).toBe(404);
  });
});
