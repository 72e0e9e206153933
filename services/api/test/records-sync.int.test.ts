import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { RecordRepository } from '@kbflow/db';
import { REPO_ROOT } from '@kbflow/testing';
import type { LanceDbVectorStore } from '@kbflow/vector-store';
import { startRecordsPipeline, type RecordsPipeline } from './support/records-pipeline.ts';
import { DEV_KEY, OTHER_KEY, type SendResult, type TestApi } from './support/test-api.ts';

// POST /v1/records?mode=full&sync=<id>: mode=full over the batches of one
// upload, as records.int.test.ts tests the single upload: the real API over
// HTTP, the real embed / delete-vectors / complete-ingest processors on
// BullMQ workers, PostgreSQL and a LanceDB directory; and `./kbflow ingest
// --mode full` as a process against that API. The pipeline is support/records-pipeline.ts.
const MAX_BYTES = 64 * 1024;
jest.setTimeout(90_000);

let pipeline: RecordsPipeline;
let api: TestApi;
let vectors: LanceDbVectorStore;
let tenantId: string;
let otherTenantId: string;

beforeAll(async () => {
  pipeline = await startRecordsPipeline('records-sync', MAX_BYTES);
  ({ api, vectors, tenantId } = pipeline);
  otherTenantId = (await api.tenants.authenticate(OTHER_KEY))!.tenantId;
}, 60_000);

afterAll(async () => {
  await pipeline.close();
});

const row = (id: string) => ({ id, title: `Record ${id}`, body: `The body of record ${id}, about printers and VPNs.` });

/** Posts rows as a JSON array (or a raw NDJSON body) to POST /v1/records with the query string. */
const ingest = (rows: unknown[] | string, query: string, key = DEV_KEY): Promise<SendResult> =>
  fetch(`${api.base}/v1/records${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': typeof rows === 'string' ? 'application/x-ndjson' : 'application/json' },
    body: Buffer.from(typeof rows === 'string' ? rows : JSON.stringify(rows)),
  }).then(async (res) => {
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text), headers: res.headers };
  });

async function waitForTask(taskId: string, key = DEV_KEY): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { json } = await api.send('GET', `/v1/tasks/${taskId}`, { key });
    if (json.state === 'completed' || json.state === 'failed') return json;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${json.state}: ${JSON.stringify(json.progress)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stores rows (incremental) and waits for them to be embedded. */
async function seed(source: string, ids: string[], key = DEV_KEY): Promise<void> {
  const res = await ingest(ids.map(row), `?source=${source}`, key);
  expect(res.status).toBe(202);
  await waitForTask(res.json.taskId, key);
}

/** A source's record ids of a tenant, sorted, with their chunk ids. */
async function recordsOf(source: string, tenant = tenantId): Promise<{ ids: string[]; chunkIds: Map<string, string[]> }> {
  const docs = await api.db.document.findMany({ where: { source, tenantId: tenant }, include: { chunks: true } });
  const idOf = (url: string) => url.slice(`record://${source}/`.length);
  return {
    ids: docs.map((d) => idOf(d.url)).sort(),
    chunkIds: new Map(docs.map((d) => [idOf(d.url), d.chunks.map((c) => c.id)])),
  };
}

const syncRow = (tenant: string, id: string) => api.db.recordSync.findUnique({ where: { tenantId_id: { tenantId: tenant, id } } });
const syncUrlCount = (tenant: string, id: string) => api.db.recordSyncUrl.count({ where: { tenantId: tenant, syncId: id } });

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('POST /v1/records?mode=full&sync=: one full upload over several requests', () => {
  it('only the final batch deletes, and exactly the records no batch named, with their chunks and vectors', async () => {
    await seed('sync', ['s1', 's2', 's3', 's4', 's5', 's6']);
    await seed('sync-other', ['s4']);
    const before = await recordsOf('sync');
    const gone = ['s4', 's6'].flatMap((id) => before.chunkIds.get(id)!);
    expect(gone.length).toBeGreaterThan(0);
    const ids = new Set(await vectors.listIds({ tenantId }));
    for (const id of gone) expect(ids.has(id)).toBe(true);

    const sync = 'sync-3-batches';
    const b1 = await ingest([row('s1'), row('s2')], `?source=sync&mode=full&sync=${sync}`);
    expect(b1.status).toBe(202);
    expect(b1.json).toMatchObject({ received: 2, unchanged: 2, deleted: 0, sync: { id: sync, batches: 1, final: false } });
    // A batch sent again (its answer lost, say) is harmless: its rows are unchanged, its URLs already known.
    const again = await ingest([row('s1'), row('s2')], `?source=sync&mode=full&sync=${sync}`);
    expect(again.json).toMatchObject({ unchanged: 2, deleted: 0, sync: { batches: 2, final: false } });
    const b2 = await ingest([row('s3'), row('s7')], `?source=sync&mode=full&sync=${sync}&final=false`);
    expect(b2.json).toMatchObject({ accepted: 2, unchanged: 1, deleted: 0, sync: { batches: 3, final: false } });
    // Until the final batch nothing is deleted, and the sync holds every URL named so far.
    expect((await recordsOf('sync')).ids).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7']);
    expect(await syncUrlCount(tenantId, sync)).toBe(4);

    const b3 = await ingest([row('s5')], `?source=sync&mode=full&sync=${sync}&final=true`);
    expect(b3.status).toBe(202);
    expect(b3.json).toMatchObject({ received: 1, unchanged: 1, deleted: 2, sync: { id: sync, batches: 4, final: true } });
    expect(b3.json.pruneSkipped).toBeUndefined();
    expect((await recordsOf('sync')).ids).toEqual(['s1', 's2', 's3', 's5', 's7']);
    expect((await recordsOf('sync-other')).ids).toEqual(['s4']);
    expect(await api.db.chunk.count({ where: { id: { in: gone } } })).toBe(0);
    await until(async () => {
      const left = new Set(await vectors.listIds({ tenantId }));
      return gone.every((id) => !left.has(id));
    });
    expect((await waitForTask(b3.json.taskId)).progress).toMatchObject({ deleted: 2 });

    // The sync's URLs are gone with it; the row stays, so a late or repeated batch is refused, not taken for a new sync.
    expect(await syncRow(tenantId, sync)).toMatchObject({ state: 'finished', batches: 4 });
    expect(await syncUrlCount(tenantId, sync)).toBe(0);
    const late = await ingest([row('s1')], `?source=sync&mode=full&sync=${sync}&final=true`);
    expect([late.status, late.json.error.code, late.json.error.field]).toEqual([409, 'sync_finished', 'sync']);
    expect((await recordsOf('sync')).ids).toEqual(['s1', 's2', 's3', 's5', 's7']);
  });

  it('with an invalid row in batch 2, the final batch deletes nothing and says why', async () => {
    await seed('sync-invalid', ['i1', 'i2', 'i3', 'i4']);
    const sync = 'sync-invalid-row';
    const q = `?source=sync-invalid&mode=full&sync=${sync}`;
    expect((await ingest([row('i1')], q)).status).toBe(202);
    const b2 = await ingest(`${JSON.stringify(row('i2'))}\n${JSON.stringify({ title: 'no id' })}\n`, q);
    expect(b2.json).toMatchObject({ received: 2, invalid: 1, deleted: 0 });
    const b3 = await ingest([row('i3')], `${q}&final=true`);
    expect(b3.status).toBe(202);
    expect(b3.json).toMatchObject({ deleted: 0, sync: { final: true } });
    expect(b3.json.pruneSkipped).toMatch(/1 invalid rows/);
    expect((await recordsOf('sync-invalid')).ids).toEqual(['i1', 'i2', 'i3', 'i4']);
    expect(await syncRow(tenantId, sync)).toMatchObject({ state: 'finished', invalid: 1 });
  });

  it('a batch refused whole (every row invalid, or a malformed body) also keeps the final batch from deleting', async () => {
    await seed('sync-rejected', ['r1', 'r2', 'r3']);
    for (const [sync, refused] of [
      ['sync-all-invalid', [{ title: 'no id' }]],
      ['sync-malformed', '{"id": "r2", "body": broken\n{"id": "r3"'],
    ] as const) {
      const q = `?source=sync-rejected&mode=full&sync=${sync}`;
      expect((await ingest(typeof refused === 'string' ? refused : [...refused], q)).status).toBe(400);
      const last = await ingest([row('r1')], `${q}&final=true`);
      expect(last.json).toMatchObject({ deleted: 0, sync: { final: true } });
      expect(last.json.pruneSkipped).toMatch(/1 rejected batches/);
      expect((await recordsOf('sync-rejected')).ids).toEqual(['r1', 'r2', 'r3']);
    }
  });

  it("two tenants using the same sync id never see or finish each other's sync", async () => {
    await seed('shared', ['t1', 't2', 't3']);
    await seed('shared', ['t1', 't2', 't3'], OTHER_KEY);
    const sync = 'same-id-both-tenants';
    const q = `?source=shared&mode=full&sync=${sync}`;
    expect((await ingest([row('t1')], q)).json.sync).toEqual({ id: sync, batches: 1, final: false });
    // The other tenant's final batch knows only its own batches: t1 (named by the first tenant's batch) goes too.
    const theirs = await ingest([row('t2')], `${q}&final=true`, OTHER_KEY);
    expect(theirs.json).toMatchObject({ deleted: 2, sync: { id: sync, batches: 1, final: true } });
    expect((await recordsOf('shared', otherTenantId)).ids).toEqual(['t2']);
    expect((await recordsOf('shared')).ids).toEqual(['t1', 't2', 't3']);
    // The first tenant's sync is still open, with its own batch: its final keeps t1 and t3, deletes t2.
    expect(await syncRow(tenantId, sync)).toMatchObject({ state: 'open', batches: 1 });
    const ours = await ingest([row('t3')], `${q}&final=true`);
    expect(ours.json).toMatchObject({ deleted: 1, sync: { batches: 2, final: true } });
    expect((await recordsOf('shared')).ids).toEqual(['t1', 't3']);
    expect((await recordsOf('shared', otherTenantId)).ids).toEqual(['t2']);
  });
});

describe('POST /v1/records sync: bad input is a 4xx naming the field and writes nothing', () => {
  const counts = async () => ({
    docs: await api.db.document.count(),
    tasks: await api.db.task.count(),
    syncs: await api.db.recordSync.count(),
    urls: await api.db.recordSyncUrl.count(),
    knowledgeBases: await api.db.knowledgeBase.count(),
  });

  it.each([
    ['sync without mode (incremental by default)', '?source=bad&sync=aaaaaaaa-1', 'sync'],
    ['sync with mode=incremental', '?source=bad&mode=incremental&sync=aaaaaaaa-1', 'sync'],
    ['final without sync', '?source=bad&mode=full&final=true', 'final'],
    ['final=false without sync', '?source=bad&final=false', 'final'],
    ['a sync id with a space', '?source=bad&mode=full&sync=not%20an%20id', 'sync'],
    ['a sync id too short', '?source=bad&mode=full&sync=short', 'sync'],
    ['a sync id too long', `?source=bad&mode=full&sync=${'a'.repeat(129)}`, 'sync'],
    ['final that is not a boolean', '?source=bad&mode=full&sync=aaaaaaaa-1&final=yes', 'final'],
    ['sync given twice', '?source=bad&mode=full&sync=aaaaaaaa-1&sync=aaaaaaaa-2', 'sync'],
  ])('%s: a 400 naming the field', async (_label, query, field) => {
    const before = await counts();
    const res = await ingest([row('x1')], query);
    expect([res.status, res.json.error.code, res.json.error.field]).toEqual([400, 'invalid_field', field]);
    expect(await counts()).toEqual(before);
  });

  it('another source or knowledge base in a later batch is a 400 naming it; nothing is written, not even the knowledge base', async () => {
    const sync = 'sync-mismatch';
    expect((await ingest([row('m1')], `?source=mismatch&mode=full&sync=${sync}`)).status).toBe(202);
    const before = await counts();
    const source = await ingest([row('m2')], `?source=mismatch-2&mode=full&sync=${sync}&final=true`);
    expect([source.status, source.json.error.code, source.json.error.field]).toEqual([400, 'sync_mismatch', 'source']);
    const kb = await ingest([row('m2')], `?source=mismatch&knowledgeBase=another-kb&mode=full&sync=${sync}&final=true`);
    expect([kb.status, kb.json.error.code, kb.json.error.field]).toEqual([400, 'sync_mismatch', 'knowledgeBase']);
    expect(await counts()).toEqual(before);
    expect(await syncRow(tenantId, sync)).toMatchObject({ state: 'open', batches: 1, rejected: 0 });
  });

  it('an abandoned sync expires: refused after 24 h idle, its URLs dropped by the retention, the row removed after 7 days', async () => {
    await seed('expiry', ['e1', 'e2']);
    const sync = 'sync-abandoned';
    const q = `?source=expiry&mode=full&sync=${sync}`;
    expect((await ingest([row('e1')], q)).status).toBe(202);
    await api.db.$executeRaw`UPDATE record_syncs SET updated_at = now() - interval '25 hours' WHERE tenant_id = ${tenantId}::uuid AND id = ${sync}`;
    const before = await counts();
    const late = await ingest([row('e1')], `${q}&final=true`);
    expect([late.status, late.json.error.code, late.json.error.field]).toEqual([409, 'sync_expired', 'sync']);
    expect(await counts()).toEqual(before);
    expect((await recordsOf('expiry')).ids).toEqual(['e1', 'e2']);

    const records = new RecordRepository(api.db);
    expect(await records.expireSyncs()).toMatchObject({ expired: 1 });
    expect(await syncRow(tenantId, sync)).toMatchObject({ state: 'expired' });
    expect(await syncUrlCount(tenantId, sync)).toBe(0);
    await api.db.$executeRaw`UPDATE record_syncs SET updated_at = now() - interval '8 days' WHERE tenant_id = ${tenantId}::uuid AND id = ${sync}`;
    expect((await records.expireSyncs()).removed).toBeGreaterThanOrEqual(1);
    expect(await syncRow(tenantId, sync)).toBeNull();
  });
});

/** Runs `./kbflow ingest` (its Node entry point) against the test API. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'packages/cli/src/main.ts'), 'ingest', ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KBFLOW_API_URL: api.base, KBFLOW_API_KEY: DEV_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('./kbflow ingest --mode full: the batches of one run are one sync', () => {
  const ndjson = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

  it('a batch that fails for good keeps the final batch unsent: nothing is deleted; a whole run deletes what the file no longer has', async () => {
    await seed('cli-sync', ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
    const dir = await mkdtemp(path.join(tmpdir(), 'kbflow-cli-sync-'));
    try {
      // Batch 2 is over the API's body cap: a 413, which the CLI does not retry.
      const broken = path.join(dir, 'broken.ndjson');
      await writeFile(broken, ndjson([row('c1'), row('c2'), { ...row('c3'), body: 'x'.repeat(MAX_BYTES) }, row('c4'), row('c5')]));
      const failed = await cli([broken, '--source', 'cli-sync', '--mode', 'full', '--batch-rows', '2']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/answered 413[\s\S]*no record was deleted: sync [0-9a-f-]{36} was not finished/);
      expect((await recordsOf('cli-sync')).ids).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
      const open = await api.db.recordSync.findMany({ where: { tenantId, source: 'cli-sync' } });
      expect(open).toEqual([expect.objectContaining({ state: 'open', batches: 1 })]);

      const file = path.join(dir, 'whole.ndjson');
      await writeFile(file, ndjson(['c1', 'c2', 'c3', 'c4', 'c5'].map(row)));
      const run = await cli([file, '--source', 'cli-sync', '--mode', 'full', '--batch-rows', '2']);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^received 5, accepted 5, unchanged 5, deleted 1, invalid 0$/m);
      expect(run.stdout).toMatch(/sync [0-9a-f-]{36} finished/);
      expect((await recordsOf('cli-sync')).ids).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
      // One sync id for the run's three batches, the last one final.
      const finished = await api.db.recordSync.findMany({ where: { tenantId, source: 'cli-sync', state: 'finished' } });
      expect(finished).toEqual([expect.objectContaining({ batches: 3 })]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
