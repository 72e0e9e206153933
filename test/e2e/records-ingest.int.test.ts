import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { apiClient, artifactDir, REPO_ROOT, SHARED_DATA, startE2eStack, testRedisUrl, type E2eStack, type Stack } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

// Batch record ingestion end to end: the api, embedder and aggregator as real
// processes, every row of the support-ticket CSVs sent through `./kbflow
// ingest` (the CLI streams each file in batches), queries asked meanwhile.
const KEY = 'e2e-records-key';
const TICKETS = path.join(SHARED_DATA, 'support-tickets');
/** The files, their rows, and how each gets record ids (the GitHub exports have no id column). */
const FILES = [
  { file: 'suraj520_customer_support_tickets.csv', source: 'support', rows: 8469, args: [] as string[] },
  { file: 'nlbse24_github_issues_train.csv', source: 'gh-train', rows: 1500, args: ['--id-prefix', 'train-'] },
  { file: 'nlbse24_github_issues_test.csv', source: 'gh-test', rows: 1500, args: ['--id-prefix', 'test-'] },
];
const TOTAL_ROWS = FILES.reduce((n, f) => n + f.rows, 0);
/** Two GitHub issues of the test file have an empty body: a record needs one, so they are reported, not stored. */
const EMPTY_BODY_ROWS = [293, 1096];

let e2e: E2eStack;
let db: Db;
let stack: Stack;
let lanceDir: string;
let prefix: string;
const client = apiClient(() => stack.apiUrl, KEY);

beforeAll(async () => {
  e2e = await startE2eStack('e2e-rec', {
    services: ['api', 'embedder', 'aggregator'],
    logDir: artifactDir('e2e-records'),
    env: {
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'e2e-records-admin',
      KBFLOW_WORKER_CONCURRENCY: '4',
      // The queries below are about being answered while bulk work runs, not about how fast:
      // on a two-core machine shared with other jobs a 30 s default can pass without any fault.
      KBFLOW_QUERY_TIMEOUT_MS: '120000',
    },
  });
  ({ stack, lanceDir, prefix } = e2e);
  db = createDb(e2e.database.url);
}, 120_000);

afterAll(async () => {
  await db?.$disconnect();
  await e2e?.teardown();
}, 60_000);

/** Runs `./kbflow ingest` (its Node entry point) against the stack; resolves with its output. */
function cliIngest(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'packages/cli/src/main.ts'), 'ingest', path.join(TICKETS, file), ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KBFLOW_API_URL: stack.apiUrl, KBFLOW_API_KEY: KEY },
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

/** The totals line of the CLI's output as numbers. */
function totalsOf(stdout: string): Record<'received' | 'accepted' | 'unchanged' | 'deleted' | 'invalid', number> {
  const line = stdout.split('\n').find((l) => l.startsWith('received '));
  if (!line) throw new Error(`no totals in: ${stdout}`);
  return Object.fromEntries(line.split(', ').map((part) => [part.split(' ')[0]!, Number(part.split(' ')[1])])) as ReturnType<typeof totalsOf>;
}

const ingestAll = () => Promise.all(FILES.map((f) => cliIngest(f.file, ['--source', f.source, '--batch-rows', '2000', ...f.args])));

describe('records: every support ticket through ./kbflow ingest', () => {
  it('ingests all rows at BULK priority while CRITICAL queries keep being answered', async () => {
    const started = performance.now();
    let ingesting = true;
    // One query after another while the files ingest (a user asking, not a
    // load test): every one of them must be answered.
    const answers: { status: number; answer?: unknown; timings?: Record<string, number> }[] = [];
    const asking = (async () => {
      // The knowledge base exists once the first batch is in; from then on every query must be answered.
      while (ingesting && (await db.knowledgeBase.count()) === 0) await new Promise((r) => setTimeout(r, 50));
      while (ingesting) {
        const res = await client.call('POST', '/v1/query', { query: 'my printer stopped working after an update', topK: 3 });
        answers.push({ status: res.status, ...res.json });
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const runs = await ingestAll().finally(() => (ingesting = false));
    await asking;
    const seconds = (performance.now() - started) / 1000;
    const latencies = answers.map((a) => a.timings?.totalMs ?? NaN).sort((x, y) => x - y);
    process.stdout.write(
      `records ingest: ${TOTAL_ROWS} rows indexed end to end in ${seconds.toFixed(1)} s = ${Math.round(TOTAL_ROWS / seconds)} records/s; ` +
        `${answers.length} queries asked meanwhile, answered in median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms\n`,
    );
    for (const run of runs)
      process.stdout.write(
        `${run.stdout
          .split('\n')
          .filter((l) => !/^(sent|indexed) /.test(l))
          .join('\n')}\n`,
      );

    for (const [i, run] of runs.entries()) {
      expect({ file: FILES[i]!.file, code: run.code, stderr: run.stderr }).toEqual({ file: FILES[i]!.file, code: 0, stderr: expect.any(String) });
      const totals = totalsOf(run.stdout);
      expect(totals.received).toBe(FILES[i]!.rows);
      expect(totals.accepted + totals.invalid).toBe(FILES[i]!.rows);
    }
    const test = runs[2]!.stdout;
    for (const row of EMPTY_BODY_ROWS) expect(test).toContain(`row ${row}: body: must not be empty`);
    expect(totalsOf(test).invalid).toBe(EMPTY_BODY_ROWS.length);

    // The queries asked during the ingest were all answered.
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.filter((q) => q.status !== 200 || typeof q.answer !== 'string')).toEqual([]);

    const tasks = await db.task.findMany({ where: { type: 'ingest' } });
    expect(tasks.length).toBeGreaterThanOrEqual(FILES.length);
    expect(tasks.every((t) => t.state === 'completed')).toBe(true);
  }, 300_000);

  it('stores one document per valid row, and every chunk has exactly one vector', async () => {
    expect(await db.document.count({ where: { contentType: 'record' } })).toBe(TOTAL_ROWS - EMPTY_BODY_ROWS.length);
    for (const f of FILES) {
      const expected = f.rows - (f.source === 'gh-test' ? EMPTY_BODY_ROWS.length : 0);
      expect(await db.document.count({ where: { source: f.source, status: 'indexed' } })).toBe(expected);
    }
    const chunks = await db.chunk.findMany({ select: { id: true, indexed: true, tenantId: true } });
    expect(chunks.every((c) => c.indexed)).toBe(true);
    const store = new LanceDbVectorStore({ dir: lanceDir, table: 'kbflow_chunks' });
    try {
      const ids = await store.listIds({ tenantId: chunks[0]!.tenantId });
      expect(ids.length).toBe(chunks.length);
      expect(new Set(ids)).toEqual(new Set(chunks.map((c) => c.id)));
      expect(await store.count({ tenantId: chunks[0]!.tenantId, contentTypes: ['record'] })).toBe(chunks.length);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a search finds a known ticket by its record URL', async () => {
    // Row 1234 of the GitHub training set: "Test_TensorFlow_layers.tf2_prelu fails with OpenVINO CPU backend".
    const res = await client.call('POST', '/v1/search', { query: 'tf2_prelu fails with OpenVINO CPU backend', topK: 5 });
    expect(res.status).toBe(200);
    expect(res.json.results.map((r: { url: string }) => r.url)).toContain('record://gh-train/train-1234');
    const doc = await db.document.findFirst({ where: { url: 'record://support/42' } });
    expect(doc).toMatchObject({
      title: 'Product compatibility',
      metadata: expect.objectContaining({ 'Product Purchased': 'Dell XPS', 'Ticket Priority': 'Critical' }),
    });
  }, 60_000);

  it('re-ingesting the same files finds every row unchanged and embeds nothing', async () => {
    const since = new Date();
    const chunksBefore = await db.chunk.count();
    const runs = await ingestAll();
    for (const [i, run] of runs.entries()) {
      expect(run.code).toBe(0);
      const totals = totalsOf(run.stdout);
      expect(totals.unchanged).toBe(totals.accepted);
      expect(totals.received).toBe(FILES[i]!.rows);
      expect(run.stdout).toContain('embedded 0 of 0 documents');
    }
    const tasks = await db.task.findMany({ where: { type: 'ingest', createdAt: { gte: since } } });
    expect(tasks.length).toBeGreaterThanOrEqual(FILES.length);
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const aggregate = new Queue('aggregate', { connection, prefix });
    try {
      for (const task of tasks) {
        expect(task).toMatchObject({ state: 'completed', result: expect.objectContaining({ toEmbed: 0, embedded: 0 }) });
        expect(await aggregate.getJob(`ingest-${task.id}`)).toBeUndefined();
      }
    } finally {
      await aggregate.close();
      await connection.quit();
    }
    expect(await db.chunk.count()).toBe(chunksBefore);
  }, 240_000);

  it('--as cases posts the same batches to POST /v1/cases: one case per valid row', async () => {
    const run = await cliIngest('nlbse24_github_issues_test.csv', ['--as', 'cases', '--id-prefix', 'gh-test-', '--batch-rows', '500']);
    expect(run.code).toBe(0);
    const line = run.stdout.split('\n').find((l) => l.startsWith('received '))!;
    const totals = Object.fromEntries(line.split(', ').map((part) => [part.split(' ')[0]!, Number(part.split(' ')[1])]));
    expect(totals.received).toBe(1500);
    expect(totals.created! + totals.invalid!).toBe(1500);
    expect(await db.case.count()).toBe(totals.created);
    expect(await db.case.findFirst({ where: { externalId: 'gh-test-1234' } })).toMatchObject({ subject: expect.any(String), description: expect.any(String) });
  }, 120_000);
});
