import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CaseRepository, RecordRepository } from '@kbflow/db';
import { HashingEmbedder } from '@kbflow/embeddings';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, Priority, priorityClass, QueueName, someHandlers, type Redis } from '@kbflow/queues';
import { artifactDir, SHARED_DATA } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { QueueEvents, type Worker } from 'bullmq';
import { parse } from 'csv-parse/sync';
import { deleteVectors } from '../../embedder/src/processors/delete-vectors.processor.ts';
import { embedDocuments } from '../../embedder/src/processors/embed-documents.processor.ts';
import { loadCaseCategoryRules } from '../../maintenance/src/case-category-config.ts';
import { caseSync, type CaseSyncResult } from '../../maintenance/src/processors/case-sync.processor.ts';
import { DEV_KEY, OTHER_KEY, startTestApi, type SendResult, type TestApi } from './support/test-api.ts';

// /v1/cases over HTTP against the real API, with the real case-sync
// processor (maintenance) and the real embed-documents / delete-vectors
// processors (embedder) on BullMQ workers, PostgreSQL and LanceDB.
const TICKETS = path.join(SHARED_DATA, 'support-tickets');
const SUPPORT_CSV = path.join(TICKETS, 'suraj520_customer_support_tickets.csv');
const GITHUB_TRAIN_CSV = path.join(TICKETS, 'nlbse24_github_issues_train.csv');
const GITHUB_TEST_CSV = path.join(TICKETS, 'nlbse24_github_issues_test.csv');

let api: TestApi;
let lanceDir: string;
let vectors: LanceDbVectorStore;
let embedWorker: Worker;
let syncWorker: Worker;
let events: QueueEvents;
let eventsConnection: Redis;
let syncCount = 0;

beforeAll(async () => {
  api = await startTestApi({ label: 'cases', recordsMaxBytes: 8 * 1024 * 1024 });
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-cases-'));
  vectors = new LanceDbVectorStore({ dir: lanceDir, table: 'chunks' });
  const embedder = new HashingEmbedder();
  const log = createLogger('cases-test', 'silent');
  const embedDeps = { records: new RecordRepository(api.db), embedder, vectors, ready: () => vectors.ensureCollection(embedder.dimensions) };
  embedWorker = createWorker({
    queue: QueueName.embed,
    handlers: someHandlers(QueueName.embed, {
      'embed-documents': (data, ctx) => embedDocuments(data, ctx, embedDeps),
      'delete-vectors': (data, ctx) => deleteVectors(data, ctx, embedDeps),
    }),
    connection: api.redis,
    producer: api.producer,
    log,
    registry: createMetrics('cases-test').registry,
    concurrency: 2,
  });
  const syncDeps = { cases: new CaseRepository(api.db), producer: api.producer, rules: loadCaseCategoryRules(undefined), batchSize: 250 };
  syncWorker = createWorker({
    queue: QueueName.maintenance,
    handlers: someHandlers(QueueName.maintenance, { 'case-sync': (data, ctx) => caseSync(data, ctx, syncDeps) }),
    connection: api.redis,
    producer: api.producer,
    log,
    registry: createMetrics('cases-test').registry,
  });
  eventsConnection = api.redis.duplicate();
  events = new QueueEvents(QueueName.maintenance, { connection: eventsConnection, prefix: api.producer.prefix });
  await events.waitUntilReady();
}, 60_000);

afterAll(async () => {
  await Promise.all([embedWorker?.close(), syncWorker?.close()]);
  await events?.close();
  await eventsConnection?.quit();
  await vectors?.close();
  await api?.close();
  if (lanceDir) await rm(lanceDir, { recursive: true, force: true });
}, 60_000);

/** Runs one case-sync job to its end, as the schedule would. */
async function sync(): Promise<CaseSyncResult> {
  const job = await api.producer.enqueue(
    QueueName.maintenance,
    'case-sync',
    { trigger: 'manual' },
    { priority: Priority.LOW, jobId: `cases-sync-${++syncCount}` },
  );
  return (await job.waitUntilFinished(events, 600_000)) as CaseSyncResult;
}

/** Sends a raw body to POST /v1/cases (a Buffer: fetch would label a string text/plain). */
const post = (body: Buffer<ArrayBuffer> | FormData, contentType: string | undefined, query = '', key = DEV_KEY): Promise<SendResult> =>
  fetch(`${api.base}/v1/cases${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, ...(contentType ? { 'content-type': contentType } : {}) },
    body,
  }).then(async (res) => {
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text), headers: res.headers };
  });

const count = async (sql: string, ...params: unknown[]): Promise<number> => Number((await api.db.$queryRawUnsafe<{ n: bigint }[]>(sql, ...params))[0]!.n);

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RFC 4180 line: every value quoted, quotes doubled. */
const csvLine = (values: string[]) => values.map((v) => `"${v.replaceAll('"', '""')}"`).join(',');

describe('cases: one at a time', () => {
  const printer = {
    externalId: 'HD-1001',
    subject: 'Printer offline',
    description: 'The office printer shows offline for every laptop since this morning.',
    status: 'open',
    priority: 'high',
    product: 'LaserJet 400',
    metadata: { team: 'facilities' },
  };
  let id: string;

  it('POST with one object creates the case (201), pending until synced; bad bodies are 4xx naming the field and write nothing', async () => {
    const created = await api.send('POST', '/v1/cases', { body: printer });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      ...printer,
      resolution: '',
      channel: '',
      version: 1,
      syncedVersion: 0,
      pending: true,
      category: null,
      complete: null,
    });
    id = created.json.id;

    const bad = [
      [{ ...printer, externalId: 'HD-2', subject: '  ' }, 400, 'subject'],
      [{ externalId: 'HD-3', description: 'no subject' }, 400, 'subject'],
      [{ ...printer, externalId: 'HD-4', colour: 'red' }, 400, 'colour'],
      [{ ...printer, externalId: 'HD-5', metadata: { nested: { deep: 1 } } }, 400, 'metadata.nested'],
      [{ ...printer, externalId: 'HD-6', knowledgeBase: 'Not A Slug' }, 400, 'knowledgeBase'],
      [{ ...printer, externalId: 'x'.repeat(300) }, 400, 'externalId'],
      [printer, 409, 'externalId'],
    ] as const;
    for (const [body, status, field] of bad) {
      const res = await api.send('POST', '/v1/cases', { body });
      expect([res.status, res.json.error.field]).toEqual([status, field]);
    }
    expect((await api.send('POST', '/v1/cases', { body: '{"subject": ', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect(await count(`SELECT count(*) n FROM cases`)).toBe(1);
  });

  it('GET, PATCH (a new version), list with filters and pages; another tenant sees none of it', async () => {
    expect((await api.send('GET', `/v1/cases/${id}`)).json).toMatchObject({ id, externalId: 'HD-1001', subject: 'Printer offline' });
    expect((await api.send('GET', `/v1/cases/${id}`, { key: OTHER_KEY })).status).toBe(404);
    expect((await api.send('GET', '/v1/cases/not-a-uuid')).status).toBe(404);

    const patched = await api.send('PATCH', `/v1/cases/${id}`, { body: { status: 'resolved' } });
    expect(patched.json).toMatchObject({ status: 'resolved', version: 2, pending: true });
    // The same values again are no change: the version stays.
    expect((await api.send('PATCH', `/v1/cases/${id}`, { body: { status: 'resolved' } })).json.version).toBe(2);
    expect((await api.send('PATCH', `/v1/cases/${id}`, { body: {} })).json.error).toMatchObject({ field: 'body', code: 'invalid_field' });
    expect((await api.send('PATCH', `/v1/cases/${id}`, { body: { status: 7 } })).json.error.field).toBe('status');
    expect((await api.send('PATCH', `/v1/cases/${id}`, { body: { externalId: 'other' } })).json.error.field).toBe('externalId');
    expect((await api.send('PATCH', `/v1/cases/${id}`, { body: { status: 'open' }, key: OTHER_KEY })).status).toBe(404);

    for (let i = 0; i < 3; i++) {
      expect((await api.send('POST', '/v1/cases', { body: { externalId: `HD-10${i}`, subject: `Password reset ${i}`, status: 'open' } })).status).toBe(201);
    }
    const pages: string[][] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await api.send('GET', `/v1/cases?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(page.json.cases.map((c: { externalId: string }) => c.externalId));
      cursor = page.json.nextCursor;
    }
    expect(pages.flat().sort()).toEqual(['HD-1001', 'HD-100', 'HD-101', 'HD-102'].sort());
    expect(pages[0]).toHaveLength(3);
    expect((await api.send('GET', '/v1/cases?status=RESOLVED')).json.cases.map((c: { id: string }) => c.id)).toEqual([id]);
    expect((await api.send('GET', '/v1/cases?pending=false')).json.cases).toEqual([]);
    expect((await api.send('GET', '/v1/cases', { key: OTHER_KEY })).json.cases).toEqual([]);
    for (const [query, field] of [
      ['cursor=abc', 'cursor'],
      ['limit=0', 'limit'],
      ['pending=maybe', 'pending'],
      ['colour=red', 'colour'],
    ]) {
      const res = await api.send('GET', `/v1/cases?${query}`);
      expect([res.status, res.json.error.field]).toEqual([400, field]);
    }
  });

  it('odd but valid text is stored (NUL removed, lone surrogates replaced); hostile shapes are 4xx, never 5xx, and write nothing', async () => {
    const odd = await api.send('POST', '/v1/cases?knowledgeBase=helpdesk', {
      body: {
        externalId: 'odd-\u{1f600}',
        subject: '\u202e reversed \u0000 \ud800',
        description: 'x'.repeat(5000),
        metadata: { ['__proto__']: 'p', 'a.b': null },
      },
    });
    expect(odd.status).toBe(201);
    expect(odd.json).toMatchObject({ externalId: 'odd-\u{1f600}', metadata: { 'a.b': null } });
    expect(odd.json.subject).toBe('\u202e reversed  \ufffd');
    expect((await api.send('GET', '/v1/cases?knowledgeBase=helpdesk')).json.cases.map((c: { id: string }) => c.id)).toEqual([odd.json.id]);
    expect((await api.send('POST', '/v1/cases?colour=red', { body: { subject: 'x' } })).json.error.field).toBe('colour');
    expect((await api.send('DELETE', `/v1/cases/${odd.json.id}`)).status).toBe(200);

    const before = await count(`SELECT count(*) n FROM cases`);
    const hostile: unknown[] = [
      [],
      [null, 1, 'x', [[]]],
      { externalId: { $gt: '' }, subject: 'x' },
      { subject: ['a'] },
      { subject: 'x', metadata: 'not an object' },
      { subject: 'x', metadata: { constructor: { prototype: {} } } },
      { subject: 'x', description: 'y'.repeat(1_000_001) },
      'just a string',
      42,
    ];
    for (const body of hostile) {
      const res = await api.send('POST', '/v1/cases', { body: JSON.stringify(body) });
      expect([JSON.stringify(body).slice(0, 40), res.status >= 400 && res.status < 500, typeof res.json?.error?.code]).toEqual([
        JSON.stringify(body).slice(0, 40),
        true,
        'string',
      ]);
    }
    expect(await count(`SELECT count(*) n FROM cases`)).toBe(before);
  });

  it('after a sync the case has its category, completeness and an indexed document; DELETE removes case, document and vectors', async () => {
    const run = await sync();
    expect(run).toMatchObject({ processed: 4, alreadyProcessed: 0, documentsToEmbed: 4 });
    const synced = (await api.send('GET', `/v1/cases/${id}`)).json;
    // Resolved without a resolution: incomplete.
    expect(synced).toMatchObject({ category: 'hardware', complete: false, missingFields: ['resolution'], pending: false, syncedVersion: 2 });
    expect((await api.send('GET', '/v1/cases?category=account')).json.cases).toHaveLength(3);
    await until(async () => (await count(`SELECT count(*) n FROM documents WHERE content_type = 'case' AND status = 'indexed'`)) === 4);
    const tenantId = (await api.tenants.authenticate(DEV_KEY))!.tenantId;
    const chunks = await count(`SELECT count(*) n FROM chunks WHERE document_id = $1::uuid`, synced.documentId);
    expect(chunks).toBeGreaterThan(0);
    expect(await vectors.count({ tenantId, documentId: synced.documentId })).toBe(chunks);

    const deleted = await api.send('DELETE', `/v1/cases/${id}`);
    expect(deleted.json).toEqual({ id, deleted: true });
    expect((await api.send('GET', `/v1/cases/${id}`)).status).toBe(404);
    expect((await api.send('DELETE', `/v1/cases/${id}`)).status).toBe(404);
    expect(await count(`SELECT count(*) n FROM documents WHERE id = $1::uuid`, synced.documentId)).toBe(0);
    await until(async () => (await vectors.count({ tenantId, documentId: synced.documentId })) === 0);
    expect(await vectors.count({ tenantId, contentTypes: ['case'] })).toBe(await count(`SELECT count(*) n FROM chunks`));
  }, 120_000);
});

describe('cases: bulk', () => {
  const support = { received: 8469, invalid: 0, errors: [], errorsTruncated: false };

  beforeAll(async () => {
    // 11,469 documents are not embedded here: the embed jobs are checked in the queue instead.
    await embedWorker.close();
  });

  it('ingests the three support-ticket files: 11,469 cases from a CSV body, a multipart upload and an NDJSON body', async () => {
    const csv = await post(await readFile(SUPPORT_CSV), 'text/csv', '?knowledgeBase=support');
    expect([csv.status, csv.json]).toEqual([202, { ...support, created: 8469, updated: 0, unchanged: 0 }]);

    const form = new FormData();
    form.append('file', new Blob([await readFile(GITHUB_TRAIN_CSV)], { type: 'text/csv' }), 'nlbse24_github_issues_train.csv');
    const upload = await post(form as FormData, undefined, '?knowledgeBase=support&idPrefix=gh-train-');
    expect([upload.status, upload.json]).toMatchObject([202, { received: 1500, created: 1500, invalid: 0 }]);

    // The test set as NDJSON (one JSON object per line): same mapping, other format.
    const rows = parse(await readFile(GITHUB_TEST_CSV), { columns: true, bom: true }) as Record<string, string>[];
    const ndjson = Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n'));
    const nd = await post(ndjson, 'application/x-ndjson', '?knowledgeBase=support&idPrefix=gh-test-');
    expect([nd.status, nd.json]).toMatchObject([202, { received: 1500, created: 1500, invalid: 0 }]);

    const kb = await api.tenants.findKnowledgeBaseId((await api.tenants.authenticate(DEV_KEY))!.tenantId, 'support');
    expect(await count(`SELECT count(*) n FROM cases WHERE knowledge_base_id = $1::uuid`, kb)).toBe(11_469);
    const ticket = (await api.db.case.findFirst({ where: { knowledgeBaseId: kb!, externalId: '3' } }))!;
    expect(ticket).toMatchObject({ subject: 'Network problem', status: 'Closed', priority: 'Low', product: 'Dell XPS', channel: 'Social media' });
    expect(ticket.metadata).toMatchObject({ 'Customer Name': 'Christopher Robbins', 'Ticket Type': 'Technical issue' });
    const issue = (await api.db.case.findFirst({ where: { knowledgeBaseId: kb!, externalId: 'gh-train-1' } }))!;
    expect(issue).toMatchObject({ product: 'facebook/react', status: 'open', subject: expect.stringContaining('Cannot add node') });
    expect(issue.metadata).toEqual({ created_at: '2023-08-26 06:33:37', label: 'bug' });
  }, 300_000);

  it('rows made invalid on purpose are reported by row, field and reason; the valid rows are written', async () => {
    const [header, ...records] = parse(await readFile(SUPPORT_CSV), { bom: true }) as string[][];
    const col = (name: string) => header!.indexOf(name);
    const rows = records.slice(0, 40).map((r) => {
      const copy = [...r];
      copy[col('Ticket ID')] = `bad-${copy[col('Ticket ID')]}`;
      return copy;
    });
    rows[2]![col('Ticket Subject')] = '   ';
    rows[6]![col('Ticket ID')] = '';
    rows[8]![col('Ticket ID')] = rows[1]![col('Ticket ID')]!;
    rows[10]![col('Ticket Status')] = 'x'.repeat(300);
    const lines = [csvLine(header!), ...rows.map(csvLine)];
    lines[13 + 1] = csvLine(rows[13]!.slice(0, 5));
    const res = await post(Buffer.from(lines.join('\n')), 'text/csv', '?knowledgeBase=broken');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 40, created: 35, updated: 0, unchanged: 0, invalid: 5 });
    expect(res.json.errors).toEqual([
      { row: 3, field: 'subject', reason: 'must not be empty (column "Ticket Subject")' },
      { row: 7, field: 'externalId', reason: 'must not be empty (column "Ticket ID")' },
      { row: 9, field: 'externalId', reason: '"bad-2" is also on row 2; ids must be unique within a request' },
      { row: 11, field: 'status', reason: 'must be at most 200 characters (column "Ticket Status")' },
      { row: 14, field: 'row', reason: 'has 5 columns; the header has 17' },
    ]);
    expect(await count(`SELECT count(*) n FROM cases WHERE external_id LIKE 'bad-%'`)).toBe(35);
  });

  it('a body that turns out malformed half-way, or bad parameters, write nothing', async () => {
    const broken = `${csvLine(['id', 'subject'])}\n${csvLine(['half-1', 'Fine row'])}\n"half-2,"unterminated`;
    const res = await post(Buffer.from(broken), 'text/csv');
    expect([res.status, res.json.error.field]).toEqual([400, 'body']);
    for (const [query, field] of [
      ['?idColum=x', 'idColum'],
      ['?knowledgeBase=UPPER', 'knowledgeBase'],
      ['?rowOffset=-1', 'rowOffset'],
    ]) {
      const bad = await post(Buffer.from(`${csvLine(['id', 'subject'])}\n${csvLine(['half-3', 'Fine'])}`), 'text/csv', query);
      expect([bad.status, bad.json.error.field]).toEqual([400, field]);
    }
    const all = await post(Buffer.from(`${csvLine(['subject'])}\n${csvLine(['no id'])}`), 'text/csv');
    expect([all.status, all.json.invalid, all.json.errors[0].field]).toEqual([400, 1, 'externalId']);
    expect(await count(`SELECT count(*) n FROM cases WHERE external_id LIKE 'half-%'`)).toBe(0);
  });

  it('re-posting the same files leaves every case unchanged (no new version)', async () => {
    const csv = await post(await readFile(SUPPORT_CSV), 'text/csv', '?knowledgeBase=support');
    expect(csv.json).toEqual({ ...support, created: 0, updated: 0, unchanged: 8469 });
    const train = await post(await readFile(GITHUB_TRAIN_CSV), 'text/csv', '?knowledgeBase=support&idPrefix=gh-train-');
    expect(train.json).toMatchObject({ received: 1500, created: 0, updated: 0, unchanged: 1500 });
    expect(await count(`SELECT count(*) n FROM cases WHERE version > 1 AND external_id NOT LIKE 'HD-%'`)).toBe(0);
  }, 300_000);

  it('one sync categorizes and checks every case and queues its embedding; the categories follow the tickets', async () => {
    const pending = await count(`SELECT count(*) n FROM cases WHERE synced_version < version`);
    expect(pending).toBe(11_469 + 35);
    const run = await sync();
    expect(run).toMatchObject({ processed: pending, alreadyProcessed: 0, documentsToEmbed: pending });
    expect(await count(`SELECT count(*) n FROM cases WHERE synced_version < version OR category IS NULL OR complete IS NULL`)).toBe(0);

    const kb = await api.tenants.findKnowledgeBaseId((await api.tenants.authenticate(DEV_KEY))!.tenantId, 'support');
    const distribution = await api.db.$queryRaw<{ source: string; category: string; n: bigint }[]>`
      SELECT CASE WHEN external_id LIKE 'gh-%' THEN 'github' ELSE 'support' END AS source, category, count(*) AS n
      FROM cases WHERE knowledge_base_id = ${kb}::uuid GROUP BY 1, 2 ORDER BY 1, 3 DESC`;
    const bySubject = await api.db.$queryRaw<{ subject: string; category: string; n: bigint }[]>`
      SELECT subject, category, count(*) AS n FROM cases WHERE knowledge_base_id = ${kb}::uuid AND external_id NOT LIKE 'gh-%'
      GROUP BY 1, 2 ORDER BY 1, 3 DESC`;
    const dir = artifactDir('cases');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'category-distribution.json'),
      JSON.stringify(
        { distribution: distribution.map((d) => ({ ...d, n: Number(d.n) })), bySubject: bySubject.map((d) => ({ ...d, n: Number(d.n) })) },
        null,
        2,
      ),
    );

    // The support tickets' subjects name their problem: each lands in its category, whatever the templated description says.
    const majority = new Map<string, string>();
    for (const row of bySubject) if (!majority.has(row.subject)) majority.set(row.subject, row.category);
    expect(
      Object.fromEntries(
        ['Network problem', 'Battery life', 'Hardware issue', 'Display issue', 'Software bug', 'Payment issue', 'Refund request', 'Account access'].map((s) => [
          s,
          majority.get(s),
        ]),
      ),
    ).toEqual({
      'Network problem': 'network',
      'Battery life': 'hardware',
      'Hardware issue': 'hardware',
      'Display issue': 'hardware',
      'Software bug': 'software',
      'Payment issue': 'billing',
      'Refund request': 'billing',
      'Account access': 'account',
    });
    const network = await count(
      `SELECT count(*) n FROM cases WHERE knowledge_base_id = $1::uuid AND subject = 'Network problem' AND category <> 'network'`,
      kb,
    );
    expect(network).toBe(0);
    // Support tickets closed without a resolution are incomplete; the data has none, so every closed one is complete.
    expect(await count(`SELECT count(*) n FROM cases WHERE knowledge_base_id = $1::uuid AND status = 'Closed' AND NOT complete`, kb)).toBe(0);
    const filtered = await api.send('GET', '/v1/cases?knowledgeBase=support&category=network&limit=20');
    expect(filtered.json.cases).toHaveLength(20);
    expect(filtered.json.cases.every((c: { category: string }) => c.category === 'network')).toBe(true);

    const jobs = (await api.producer.queue(QueueName.embed).getJobs(['prioritized', 'waiting'])).filter((j) => j.name === 'embed-documents');
    expect(jobs.reduce((n, j) => n + (j.data.documentIds as string[]).length, 0)).toBe(pending);
    expect(jobs.every((j) => priorityClass(j.opts.priority) === Priority.LOW)).toBe(true);
  }, 600_000);
});
