// Tier limits enforced by the API (kbflow issue 12 item 2): API calls per
// hour counted in Redis across two API instances, vector operations per
// minute, the 429's headers, the admin key unlimited, health routes never
// limited, /mcp requests counted as calls, and the documents-per-knowledge-base quota of a record upload.
// The real API over HTTP, the real PostgreSQL and Redis.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { ADMIN_KEY, startTestApi, type SendResult, type TestApi } from './support/test-api.ts';

jest.setTimeout(60_000);

let api: TestApi;
/** A second API instance over the same database and Redis prefix: another replica. */
let replica: TestApi;
/** The tenant admin routes come with the purger, which needs a vector store. */
let lanceDir: string;
let vectors: LanceDbVectorStore;

const admin = (method: string, url: string, body?: object) => api.send(method, url, { key: ADMIN_KEY, ...(body ? { body } : {}) });

async function tenantWithKey(name: string, limits: Record<string, number>): Promise<{ id: string; key: string }> {
  const created = await admin('POST', '/v1/admin/tenants', { name, tier: 'starter', limits });
  expect(created.status).toBe(201);
  const key = await admin('POST', `/v1/admin/tenants/${created.json.id}/keys`, { name: `${name}-key`, scopes: ['read', 'write'] });
  expect(key.status).toBe(201);
  return { id: created.json.id, key: key.json.key };
}

function expectRateHeaders(res: SendResult, limit: number, remaining: number, windowSeconds: number): void {
  expect(res.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(res.headers.get('ratelimit-reset'));
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(windowSeconds);
}

beforeAll(async () => {
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-limits-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  api = await startTestApi({ label: 'limits', vectors });
  replica = await startTestApi({ database: api.database, prefix: api.prefix, vectors });
}, 60_000);

afterAll(async () => {
  await replica.close();
  await api.close();
  await vectors.close();
  await rm(lanceDir, { recursive: true, force: true });
});

describe('API calls per hour', () => {
  it('over the limit answers 429 with Retry-After and RateLimit-* headers, counted across two API instances', async () => {
    const { key } = await tenantWithKey('rate-co', { maxApiCallsPerHour: 4 });
    const answers: SendResult[] = [];
    // Alternating instances: each sees the other's calls, through Redis.
    for (const instance of [api, replica, api, replica]) answers.push(await instance.send('GET', '/v1/tasks', { key }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    answers.forEach((a, i) => expectRateHeaders(a, 4, 3 - i, 3_600));

    for (const instance of [api, replica]) {
      const over = await instance.send('GET', '/v1/tasks', { key });
      expect(over.status).toBe(429);
      expect(over.json.error).toMatchObject({ code: 'rate_limited' });
      expect(over.json.error.message).toContain('4 API calls per hour');
      expectRateHeaders(over, 4, 0, 3_600);
      expect(Number(over.headers.get('retry-after'))).toBe(Number(over.headers.get('ratelimit-reset')));
    }
    // Health and readiness are never limited (metrics are not on this port at all).
    for (const path of ['/healthz', '/readyz']) expect((await api.send('GET', path, { key })).status).toBe(200);
  });

  it('a limit of 0 refuses every call; the admin key is not limited; another tenant keeps its own count', async () => {
    const { key } = await tenantWithKey('zero-co', { maxApiCallsPerHour: 0 });
    const refused = await api.send('GET', '/v1/tasks', { key });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3600');
    for (let i = 0; i < 6; i++) {
      const res = await admin('GET', '/v1/admin/tenants');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBeNull();
    }
    const { key: fresh } = await tenantWithKey('fresh-co', { maxApiCallsPerHour: 2 });
    const first = await replica.send('GET', '/v1/tasks', { key: fresh });
    expect(first.status).toBe(200);
    expectRateHeaders(first, 2, 1, 3_600);
  });

  it('a raised override applies to the window already counted, within the key cache time', async () => {
    const tenant = await tenantWithKey('raise-co', { maxApiCallsPerHour: 1 });
    expect((await api.send('GET', '/v1/tasks', { key: tenant.key })).status).toBe(200);
    expect((await api.send('GET', '/v1/tasks', { key: tenant.key })).status).toBe(429);
    expect((await admin('PATCH', `/v1/admin/tenants/${tenant.id}`, { limits: { maxApiCallsPerHour: 10 } })).status).toBe(200);
    // The second instance never cached the key: it reads the new limit at once, and counts on from
    // the two calls already made (the refused one included): this is the third.
    const after = await replica.send('GET', '/v1/tasks', { key: tenant.key });
    expect(after.status).toBe(200);
    expectRateHeaders(after, 10, 7, 3_600);
  });
});

describe('API calls through /mcp', () => {
  it('each MCP request counts one API call before its body is read, on either instance', async () => {
    const { key } = await tenantWithKey('mcp-co', { maxApiCallsPerHour: 2 });
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    };
    const headers = { accept: 'application/json, text/event-stream' };
    const first = await api.send('POST', '/mcp', { key, headers, body: init });
    expect(first.status).toBe(200);
    expectRateHeaders(first, 2, 1, 3_600);
    expect((await replica.send('POST', '/mcp', { key, headers, body: init })).status).toBe(200);
    // Over the limit, a malformed body gets the 429, not a parse error: it was never read.
    const over = await api.send('POST', '/mcp', { key, headers, body: '{"jsonrpc": "2.0", "id": 1, "method":' });
    expect(over.status).toBe(429);
    expect(over.json.error).toMatchObject({ code: 'rate_limited' });
    expectRateHeaders(over, 2, 0, 3_600);
  });
});

describe('vector operations per minute', () => {
  it('searches, queries and embeddings past the limit answer 429 with the per-minute headers; an embed call counts its texts', async () => {
    const { key } = await tenantWithKey('vector-co', { maxVectorOperationsPerMinute: 4 });
    // Bodies the routes then refuse (400): counted, and no worker is needed to answer them.
    const search = await api.send('POST', '/v1/search', { key, body: { query: 'x', unknown: 1 } });
    expect(search.status).toBe(400);
    expectRateHeaders(search, 4, 3, 60);
    const embed = await replica.send('POST', '/v1/embed', { key, body: { texts: ['a', 'b'], unknown: 1 } });
    expect(embed.status).toBe(400);
    expectRateHeaders(embed, 4, 1, 60);
    const query = await api.send('POST', '/v1/query', { key, body: { query: 'x', unknown: 1 } });
    expect(query.status).toBe(400);
    expectRateHeaders(query, 4, 0, 60);
    const over = await replica.send('POST', '/v1/search', { key, body: { query: 'x' } });
    expect(over.status).toBe(429);
    expect(over.json.error.message).toContain('4 vector operations per minute');
    expectRateHeaders(over, 4, 0, 60);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Other routes are not vector operations.
    expect((await api.send('GET', '/v1/tasks', { key })).status).toBe(200);
  });
});

describe('documents per knowledge base', () => {
  it('a record upload over the quota reports each row over it as invalid with a reason and stores the rest', async () => {
    const tenant = await tenantWithKey('quota-co', { maxDocumentsPerKnowledgeBase: 3 });
    const rows = (ids: string[], body = 'text') => ids.map((id) => ({ id, title: `Record ${id}`, body: `${body} of ${id}` }));
    const first = await api.send('POST', '/v1/records?source=crm', { key: tenant.key, body: rows(['r1', 'r2', 'r3', 'r4', 'r5']) });
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ received: 5, accepted: 3, invalid: 2 });
    expect(first.json.errors).toEqual([
      { row: 4, field: 'id', reason: expect.stringContaining('quota of 3 documents') },
      { row: 5, field: 'id', reason: expect.stringContaining('quota of 3 documents') },
    ]);
    const stored = async () =>
      (await api.db.document.findMany({ where: { tenantId: tenant.id }, select: { url: true }, orderBy: { url: 'asc' } })).map((d) => d.url);
    expect(await stored()).toHaveLength(3);

    // At the quota: changed records already stored are accepted, a new one is not.
    const again = await replica.send('POST', '/v1/records?source=crm', { key: tenant.key, body: rows(['r1', 'r6', 'r2'], 'new text') });
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({
      received: 3,
      accepted: 2,
      invalid: 1,
      errors: [{ row: 2, field: 'id', reason: expect.stringContaining('maxDocumentsPerKnowledgeBase') }],
    });
    expect((await stored()).some((url) => url.includes('r6'))).toBe(false);
    expect(await stored()).toHaveLength(3);

    // Every row over the quota: nothing is stored, the rows are named.
    const none = await api.send('POST', '/v1/records?source=crm', { key: tenant.key, body: rows(['r7']) });
    expect(none.status).toBe(400);
    expect(none.json).toMatchObject({ error: { code: 'invalid_rows' }, invalid: 1, errors: [{ row: 1, field: 'id' }] });
  });

  it('a file upload over the quota stores the files within it, fails the others by name, and replaces stored ones freely', async () => {
    const tenant = await tenantWithKey('upload-quota-co', { maxDocumentsPerKnowledgeBase: 2 });
    const upload = async (names: string[], text = 'Tide tables') => {
      const form = new FormData();
      for (const name of names) form.append('file', new Blob([`# ${name}\n\n${text} for ${name}.`], { type: 'text/markdown' }), name);
      const res = await fetch(`${api.base}/v1/documents?source=desk`, { method: 'POST', headers: { authorization: `Bearer ${tenant.key}` }, body: form });
      return { status: res.status, json: (await res.json()) as any };
    };
    const urls = async () =>
      (await api.db.document.findMany({ where: { tenantId: tenant.id }, select: { url: true }, orderBy: { url: 'asc' } })).map((d) => d.url);
    const first = await upload(['a.md', 'b.md', 'c.md']);
    expect(first.status).toBe(202);
    expect(first.json.documents.map((d: { filename: string }) => d.filename)).toEqual(['a.md', 'b.md']);
    expect(first.json.failed).toEqual([
      { filename: 'c.md', code: 'quota_exceeded', message: expect.stringContaining('quota of 2 documents (maxDocumentsPerKnowledgeBase)') },
    ]);
    expect(await urls()).toEqual(['upload://desk/a.md', 'upload://desk/b.md']);
    // At the quota: a stored file is replaced, a new one refused; with nothing storable, a 422 naming the field.
    const again = await upload(['b.md'], 'New tide tables');
    expect([again.status, again.json.documents[0].unchanged]).toEqual([202, false]);
    const none = await upload(['d.md']);
    expect([none.status, none.json.error.code, none.json.error.field]).toEqual([422, 'quota_exceeded', 'file']);
    expect(await urls()).toEqual(['upload://desk/a.md', 'upload://desk/b.md']);
    // A refused upload leaves no task behind.
    expect(await api.db.task.count({ where: { tenantId: tenant.id } })).toBe(2);
  });
});

describe('bad limits', () => {
  it.each([
    [{ maxApiCallsPerHour: -1 }, 'limits.maxApiCallsPerHour'],
    [{ maxDocumentsPerKnowledgeBase: 2.5 }, 'limits.maxDocumentsPerKnowledgeBase'],
    [{ maxRequestsPerDay: 5 }, 'limits.maxRequestsPerDay'],
  ])('limits %j: 400 naming %s, nothing written', async (limits, field) => {
    const before = (await admin('GET', '/v1/admin/tenants')).json.tenants.length;
    const res = await admin('POST', '/v1/admin/tenants', { name: 'bad-limits', limits });
    expect(res.status).toBe(400);
    expect(res.json.error.field).toBe(field);
    expect((await admin('GET', '/v1/admin/tenants')).json.tenants.length).toBe(before);
  });
});
