import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { HashingEmbedder } from '@kbflow/embeddings';
import { Priority, QueueName } from '@kbflow/queues';
import type { LanceDbVectorStore } from '@kbflow/vector-store';
import { weightedArticleVector } from '../../embedder/src/domain/article-weighting.ts';
import { startRecordsPipeline, type RecordsPipeline } from './support/records-pipeline.ts';
import { DEV_KEY, type SendResult, type TestApi } from './support/test-api.ts';

// POST /v1/records end to end inside one process: the real API over HTTP,
// the real embed-documents / delete-vectors / complete-ingest processors on
// real BullMQ workers, PostgreSQL and a LanceDB directory (support/records-pipeline.ts).
const MAX_BYTES = 256 * 1024;
// Each test waits for real workers; on a loaded two-core machine that can take longer than jest's 5 s.
jest.setTimeout(90_000);

let pipeline: RecordsPipeline;
let api: TestApi;
let vectors: LanceDbVectorStore;
let tenantId: string;

beforeAll(async () => {
  pipeline = await startRecordsPipeline('records', MAX_BYTES);
  ({ api, vectors, tenantId } = pipeline);
}, 60_000);

afterAll(async () => {
  await pipeline.close();
});

/** Sends a raw body to POST /v1/records. */
const ingest = (
  body: string | Buffer<ArrayBuffer> | FormData,
  contentType: string | undefined,
  query = '',
  headers: Record<string, string> = {},
): Promise<SendResult> =>
  fetch(`${api.base}/v1/records${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_KEY}`, ...(contentType ? { 'content-type': contentType } : {}), ...headers },
    // A Buffer, not a string: fetch would add text/plain to a string body.
    body: typeof body === 'string' ? Buffer.from(body) : body,
  }).then(async (res) => {
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text), headers: res.headers };
  });

async function waitForTask(taskId: string): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { json } = await api.send('GET', `/v1/tasks/${taskId}`);
    if (json.state === 'completed' || json.state === 'failed') return json;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${json.state}: ${JSON.stringify(json.progress)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A source's documents with their chunks, by URL in code-point order (not the database collation's). */
const docsOf = async (source: string) => {
  const docs = await api.db.document.findMany({ where: { source }, include: { chunks: { include: { indexed: true } } } });
  return docs.sort((a, b) => (a.url < b.url ? -1 : 1));
};
const vectorIds = async () => new Set(await vectors.listIds({ tenantId }));

describe('POST /v1/records: every bulk format ingests', () => {
  it('a JSON array is stored as record documents, embedded, and the task completes with its counts', async () => {
    const rows = [
      { id: 'a-1', title: 'Printer offline', body: 'The office printer shows offline after the firmware update.', metadata: { team: 'it', priority: 2 } },
      { id: 2, title: 'VPN drops', body: 'The VPN connection drops every ten minutes on hotel wifi.' },
      { id: 'a/3', body: 'No title, just a body about billing refunds.', region: 'emea' },
    ];
    const res = await ingest(JSON.stringify(rows), 'application/json', '?source=json-src');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 3, accepted: 3, unchanged: 0, deleted: 0, invalid: 0, errors: [], errorsTruncated: false });
    const task = await waitForTask(res.json.taskId);
    expect(task).toMatchObject({ type: 'ingest', state: 'completed', params: { source: 'json-src' } });
    expect(task.progress).toMatchObject({ received: 3, accepted: 3, toEmbed: 3, embedded: 3 });
    expect(task.result).toMatchObject({ embedded: 3, failed: 0 });

    const docs = await docsOf('json-src');
    expect(docs.map((d) => d.url)).toEqual(['record://json-src/2', 'record://json-src/a%2F3', 'record://json-src/a-1']);
    const first = docs.find((d) => d.url.endsWith('a-1'))!;
    expect(first).toMatchObject({
      contentType: 'record',
      title: 'Printer offline',
      status: 'indexed',
      taskId: res.json.taskId,
      metadata: { team: 'it', priority: 2 },
    });
    expect(first.markdown).toBe('# Printer offline\n\nThe office printer shows offline after the firmware update.');
    expect(docs.find((d) => d.url.endsWith('a%2F3'))!.metadata).toEqual({ region: 'emea' });
    const chunkIds = docs.flatMap((d) => d.chunks.map((c) => c.id));
    expect(docs.flatMap((d) => d.chunks).every((c) => c.indexed)).toBe(true);
    const ids = await vectorIds();
    for (const id of chunkIds) expect(ids.has(id)).toBe(true);
  });

  it('NDJSON reports each invalid row by number, field and reason, and stores the valid rows', async () => {
    const lines = [
      JSON.stringify({ id: 'n1', title: 'Disk full', body: 'The shared drive is full again.' }),
      JSON.stringify({ id: 'n2', title: 'No body here' }),
      '{"id": "n3", "body": broken json',
      '',
      JSON.stringify({ id: 'n5', body: 'Nested metadata is refused.', metadata: { deep: { no: 1 } } }),
      JSON.stringify({ id: 'x'.repeat(300), body: 'Id too long.' }),
      JSON.stringify([1, 2]),
      JSON.stringify({ id: 'n8', title: 't'.repeat(1001), body: 'Title too long.' }),
      JSON.stringify({ id: 'n1', body: 'A second row with the same id.' }),
      JSON.stringify({ id: 'n10', title: 'Mouse lag', body: 'The wireless mouse lags in video calls.' }),
    ].join('\n');
    const res = await ingest(lines, 'application/x-ndjson', '?source=nd');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 9, accepted: 2, invalid: 7 });
    const byRow = Object.fromEntries(res.json.errors.map((e: any) => [e.row, e]));
    expect(Object.keys(byRow).map(Number)).toEqual([2, 3, 5, 6, 7, 8, 9]);
    expect(byRow[2]).toMatchObject({ field: 'body', reason: expect.stringContaining('missing') });
    expect(byRow[3]).toMatchObject({ field: 'row', reason: expect.stringContaining('not valid JSON') });
    expect(byRow[5]).toMatchObject({ field: 'metadata.deep', reason: expect.stringContaining('flat') });
    expect(byRow[6]).toMatchObject({ field: 'id', reason: expect.stringContaining('256') });
    expect(byRow[7]).toMatchObject({ field: 'row', reason: 'must be a JSON object' });
    expect(byRow[8]).toMatchObject({ field: 'title', reason: expect.stringContaining('1000') });
    expect(byRow[9]).toMatchObject({ field: 'id', reason: expect.stringContaining('row 1') });
    await waitForTask(res.json.taskId);
    expect((await docsOf('nd')).map((d) => d.url)).toEqual(['record://nd/n1', 'record://nd/n10']);
  });

  it('CSV maps column aliases case-insensitively, keeps other columns as metadata and reports a ragged row', async () => {
    const csv = [
      'Ticket ID,Ticket Subject,Ticket Description,Product,Channel',
      '101,Login fails,"Users cannot log in; the page says ""session expired"",',
      'then reloads.",Portal,Email',
      '102,Refund,Customer wants a refund,Billing',
      '103,,Body without subject,Router,Phone',
      '',
    ].join('\r\n');
    const res = await ingest(csv, 'text/csv; charset=utf-8', '?source=csv-src');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 3, accepted: 2, invalid: 1 });
    expect(res.json.errors).toEqual([{ row: 2, field: 'row', reason: 'has 4 columns; the header has 5' }]);
    await waitForTask(res.json.taskId);
    const docs = await docsOf('csv-src');
    expect(docs.map((d) => [d.url, d.title, d.metadata])).toEqual([
      ['record://csv-src/101', 'Login fails', { Channel: 'Email', Product: 'Portal' }],
      ['record://csv-src/103', '', { Channel: 'Phone', Product: 'Router' }],
    ]);
    expect(docs[0]!.markdown).toContain('"session expired",\r\nthen reloads.');
  });

  it('named columns and idPrefix: a file without an id column gets stable ids from row numbers, continued by rowOffset', async () => {
    const csv = 'repo,label,title,body\nkb/a,bug,Crash on start,It crashes.\nkb/b,feature,Dark mode,Please add it.\n';
    const res = await ingest(csv, 'text/csv', '?source=gh&idPrefix=gh-&rowOffset=100&titleColumn=TITLE&bodyColumn=body');
    expect(res.status).toBe(202);
    await waitForTask(res.json.taskId);
    expect((await docsOf('gh')).map((d) => d.url)).toEqual(['record://gh/gh-101', 'record://gh/gh-102']);
    const noPrefix = await ingest(csv, 'text/csv', '?source=gh2');
    expect(noPrefix.status).toBe(400);
    expect(noPrefix.json.errors[0]).toMatchObject({ row: 1, field: 'id', reason: expect.stringContaining('idPrefix') });
  });

  it('a multipart upload with a "file" part ingests by its content type or, failing that, its extension', async () => {
    const csvForm = new FormData();
    csvForm.append('note', 'ignored field');
    csvForm.append('file', new Blob(['id,subject,text\nm1,Keyboard,Keys stick after a spill.\n'], { type: 'text/csv' }), 'tickets.csv');
    const csvRes = await ingest(csvForm, undefined, '?source=mp');
    expect(csvRes.status).toBe(202);
    expect(csvRes.json).toMatchObject({ received: 1, accepted: 1 });

    const ndForm = new FormData();
    ndForm.append('file', new Blob([`${JSON.stringify({ id: 'm2', body: 'Monitor flickers.' })}\n`], { type: 'application/octet-stream' }), 'more.jsonl');
    const ndRes = await ingest(ndForm, undefined, '?source=mp');
    expect(ndRes.status).toBe(202);
    await waitForTask(csvRes.json.taskId);
    await waitForTask(ndRes.json.taskId);
    expect((await docsOf('mp')).map((d) => d.url)).toEqual(['record://mp/m1', 'record://mp/m2']);
  });

  it('a gzip Content-Encoding is decoded', async () => {
    const body = gzipSync(JSON.stringify([{ id: 'z1', body: 'Compressed upload body.' }]));
    const res = await ingest(body, 'application/json', '?source=gz', { 'content-encoding': 'gzip' });
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(1);
  });
});

describe('POST /v1/records: re-ingest, change and delete', () => {
  const rows = [
    { id: 'r1', title: 'Wifi slow', body: 'Wifi is slow in the east wing.' },
    { id: 'r2', title: 'Badge reader', body: 'The badge reader at door 4 rejects valid badges.' },
  ];

  it('the same rows again are all unchanged: the task completes at once and nothing is queued for embedding', async () => {
    const first = await ingest(JSON.stringify(rows), 'application/json', '?source=re');
    await waitForTask(first.json.taskId);
    const again = await ingest(JSON.stringify(rows), 'application/json', '?source=re');
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ received: 2, accepted: 2, unchanged: 2 });
    const task = (await api.send('GET', `/v1/tasks/${again.json.taskId}`)).json;
    expect(task).toMatchObject({ state: 'completed', result: { toEmbed: 0, embedded: 0, unchanged: 2 } });
    expect(await api.producer.queue(QueueName.aggregate).getJob(`ingest-${again.json.taskId}`)).toBeUndefined();
    expect(await api.producer.queue(QueueName.embed).getJob(`ingest-${again.json.taskId}-0`)).toBeUndefined();
    // The first ingest's jobs are where this looks (the check above would see them).
    expect(await api.producer.queue(QueueName.aggregate).getJob(`ingest-${first.json.taskId}`)).toBeDefined();
  });

  it("a changed record replaces its chunks, and the old chunks' vectors go", async () => {
    const before = (await docsOf('re')).find((d) => d.url.endsWith('r1'))!;
    const oldChunkIds = before.chunks.map((c) => c.id);
    const res = await ingest(JSON.stringify([{ ...rows[0], body: 'Wifi is slow in the west wing now.' }, rows[1]]), 'application/json', '?source=re');
    expect(res.json).toMatchObject({ accepted: 2, unchanged: 1 });
    await waitForTask(res.json.taskId);
    const after = (await docsOf('re')).find((d) => d.url.endsWith('r1'))!;
    expect(after.id).toBe(before.id);
    expect(after.markdown).toContain('west wing');
    const ids = await vectorIds();
    for (const c of after.chunks) expect(ids.has(c.id)).toBe(true);
    for (const id of oldChunkIds) expect(ids.has(id)).toBe(false);
  });

  it('DELETE /v1/records/:id removes the document, its chunks and its vectors; an unknown id is a 404', async () => {
    const doc = (await docsOf('re')).find((d) => d.url.endsWith('r2'))!;
    const chunkIds = doc.chunks.map((c) => c.id);
    expect(chunkIds.length).toBeGreaterThan(0);
    const res = await api.send('DELETE', '/v1/records/r2?source=re');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: 'r2', deleted: true });
    expect(await api.db.document.findUnique({ where: { id: doc.id } })).toBeNull();
    expect(await api.db.chunk.count({ where: { documentId: doc.id } })).toBe(0);
    await until(async () => {
      const ids = await vectorIds();
      return chunkIds.every((id) => !ids.has(id));
    });
    const missing = await api.send('DELETE', '/v1/records/r2?source=re');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: 'record_not_found', field: 'id' });
  });

  it('a row with deleted: true removes its record and vectors within an ingest', async () => {
    const doc = (await docsOf('re')).find((d) => d.url.endsWith('r1'))!;
    const res = await ingest(
      `${JSON.stringify({ id: 'r1', deleted: true })}\n${JSON.stringify({ id: 'r9', body: 'A new one.' })}\n`,
      'application/x-ndjson',
      '?source=re',
    );
    expect(res.json).toMatchObject({ received: 2, accepted: 2, deleted: 1 });
    expect(await api.db.document.findUnique({ where: { id: doc.id } })).toBeNull();
    await until(async () => {
      const ids = await vectorIds();
      return doc.chunks.every((c) => !ids.has(c.id));
    });
  });
});

describe('POST /v1/records?mode=full: the upload is the whole source', () => {
  const rows = [
    { id: 'f1', title: 'Printer jam', body: 'The printer on floor 2 jams on A3 paper.' },
    { id: 'f2', title: 'VPN drops', body: 'The VPN drops every hour on the guest network.' },
    { id: 'f3', title: 'Locker keys', body: 'Locker keys are at the front desk.' },
  ];

  it("deletes that source's records the upload no longer contains, with their vectors, and no other source's", async () => {
    await waitForTask((await ingest(JSON.stringify(rows), 'application/json', '?source=full')).json.taskId);
    await waitForTask((await ingest(JSON.stringify(rows.slice(0, 1)), 'application/json', '?source=full-other')).json.taskId);
    const gone = (await docsOf('full')).find((d) => d.url.endsWith('/f2'))!;
    const res = await ingest(JSON.stringify([rows[0], rows[2]]), 'application/json', '?source=full&mode=full');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 2, accepted: 2, unchanged: 2, deleted: 1 });
    expect(res.json.pruneSkipped).toBeUndefined();
    expect((await docsOf('full')).map((d) => d.url)).toEqual(['record://full/f1', 'record://full/f3']);
    expect((await docsOf('full-other')).map((d) => d.url)).toEqual(['record://full-other/f1']);
    await until(async () => {
      const ids = await vectorIds();
      return gone.chunks.every((c) => !ids.has(c.id));
    });
  });

  it('with an invalid row, nothing is deleted for being missing, and the response says why', async () => {
    const res = await ingest(`${JSON.stringify(rows[0])}\n${JSON.stringify({ title: 'no id' })}\n`, 'application/x-ndjson', '?source=full&mode=full');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ received: 2, invalid: 1, deleted: 0 });
    expect(res.json.pruneSkipped).toMatch(/invalid/);
    expect((await docsOf('full')).map((d) => d.url)).toEqual(['record://full/f1', 'record://full/f3']);
  });

  it('an unknown mode is a 400 naming it', async () => {
    const res = await ingest('[]', 'application/json', '?source=full&mode=mirror');
    expect([res.status, res.json.error.field]).toEqual([400, 'mode']);
  });
});

describe('POST /v1/records: bad bodies are a 4xx naming the problem and write nothing', () => {
  const counts = async () => ({ docs: await api.db.document.count(), tasks: await api.db.task.count() });

  it.each([
    ['an unknown content type', 'hello', 'text/plain', 415, 'unsupported_media_type', 'Content-Type'],
    ['no content type', 'hello', undefined, 415, 'unsupported_media_type', 'Content-Type'],
    ['a JSON object instead of an array', '{"records": []}', 'application/json', 400, 'not_an_array', 'body'],
    ['broken JSON', '[{"id": "b1", "body": "x"},', 'application/json', 400, 'invalid_json', undefined],
    ['a CSV with a broken quote after valid rows', 'id,body\nq1,fine\nq2,"never closed\n', 'text/csv', 400, 'invalid_csv', 'body'],
    ['a CSV header naming a column twice', 'id,body,body\n1,a,b\n', 'text/csv', 400, 'invalid_csv', 'header'],
    ['an empty body', '', 'application/x-ndjson', 400, 'no_rows', 'body'],
    ['a non-UTF-8 charset', 'id,body\n1,a\n', 'text/csv; charset=latin1', 415, 'unsupported_encoding', 'Content-Type'],
  ])('%s', async (_label, body, type, status, code, field) => {
    const before = await counts();
    const res = await ingest(body, type);
    expect(res.status).toBe(status);
    expect(res.json.error.code).toBe(code);
    if (field) expect(res.json.error.field).toBe(field);
    expect(await counts()).toEqual(before);
  });

  it('a body over KBFLOW_RECORDS_MAX_BYTES is a 413, declared or streamed', async () => {
    const before = await counts();
    const big = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `big-${i}`, body: 'x'.repeat(100) })).join('\n');
    expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_BYTES);
    const declared = await ingest(big, 'application/x-ndjson');
    expect(declared.status).toBe(413);
    expect(declared.json.error).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining(String(MAX_BYTES)) });
    // Compressed, the declared length is small: the cap applies to the decoded stream.
    const streamed = await ingest(gzipSync(big), 'application/x-ndjson', '', { 'content-encoding': 'gzip' });
    expect(streamed.status).toBe(413);
    const form = new FormData();
    form.append('file', new Blob([big], { type: 'application/x-ndjson' }), 'big.ndjson');
    expect((await ingest(form, undefined)).status).toBe(413);
    expect(await counts()).toEqual(before);
  });

  it('every row invalid is a 400 with the row errors; no task is created', async () => {
    const before = await counts();
    const res = await ingest(JSON.stringify([{ id: 'e1' }, { body: 'no id' }]), 'application/json');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'invalid_rows' }, received: 2, invalid: 2 });
    expect(res.json.errors).toEqual([
      { row: 1, field: 'body', reason: expect.stringContaining('missing') },
      { row: 2, field: 'id', reason: expect.stringContaining('missing') },
    ]);
    expect(await counts()).toEqual(before);
  });

  it('a multipart body without a "file" part, and bad query parameters, are 400s naming them', async () => {
    const form = new FormData();
    form.append('other', new Blob(['id,body\n1,a\n'], { type: 'text/csv' }), 'x.csv');
    const res = await ingest(form, undefined);
    expect([res.status, res.json.error.code, res.json.error.field]).toEqual([400, 'missing_file', 'file']);
    const badSource = await ingest('[]', 'application/json', '?source=no%20spaces');
    expect([badSource.status, badSource.json.error.field]).toEqual([400, 'source']);
    const unknown = await ingest('[]', 'application/json', '?colour=red');
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 'unknown_field']);
  });

  it('Idempotency-Key on a streamed bulk body: the same bytes replay the first answer, other bytes are a 422', async () => {
    const key = `bulk-${Date.now()}`;
    const body = 'id,body\nk1,first\n';
    const a = await ingest(body, 'text/csv', '?source=idem', { 'idempotency-key': key });
    expect(a.status).toBe(202);
    const before = await counts();
    const repeat = await ingest(body, 'text/csv', '?source=idem', { 'idempotency-key': key });
    expect([repeat.status, repeat.json.taskId, repeat.headers.get('idempotent-replayed')]).toEqual([202, a.json.taskId, 'true']);
    const other = await ingest('id,body\nk2,second\n', 'text/csv', '?source=idem', { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(other.json.error).toMatchObject({ code: 'idempotency_key_reused', field: 'Idempotency-Key' });
    // The same body on another target is another request too.
    expect((await ingest(body, 'text/csv', '?source=idem-2', { 'idempotency-key': key })).status).toBe(422);
    expect(await counts()).toEqual(before);
  });
});

describe('embed-documents with article weighting', () => {
  it('stores each chunk as normalize(3·title + 2·summary + 1·chunk)', async () => {
    const summary = 'Restart the print spooler to clear stuck jobs.';
    const res = await ingest(
      JSON.stringify([{ id: 'art-1', title: 'Printer queue stuck', body: 'Jobs stay queued forever on floor 2.', metadata: { summary } }]),
      'application/json',
      '?source=art',
    );
    await waitForTask(res.json.taskId);
    const [doc] = await docsOf('art');
    const chunk = doc!.chunks[0]!;
    const job = await api.producer.enqueue(
      QueueName.embed,
      'embed-documents',
      { tenantId, documentIds: [doc!.id], weighting: 'article' },
      { priority: Priority.HIGH },
    );
    await until(async () => (await job.getState()) === 'completed');
    const embedder = new HashingEmbedder();
    const [chunkVector, titleVector, summaryVector] = await embedder.embed([chunk.text, doc!.title, summary]);
    const expected = weightedArticleVector(chunkVector!, titleVector, summaryVector);
    const [hit] = await vectors.search(expected, { tenantId, documentId: doc!.id }, 1);
    expect(hit!.id).toBe(chunk.id);
    expect(hit!.score).toBeCloseTo(1, 4);
    // The plain chunk vector is no longer what is stored.
    const [plain] = await vectors.search(chunkVector!, { tenantId, documentId: doc!.id }, 1);
    expect(plain!.score).toBeLessThan(0.99);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
