import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CaseRepository, createDb, TenantRepository, type Db } from '@kbflow/db';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, JobProducer, Priority, priorityClass, QueueName, someHandlers, type Redis } from '@kbflow/queues';
import { createTestDatabase, REPO_ROOT, testRedisUrl, uniquePrefix, type TestDatabase } from '@kbflow/testing';
import { QueueEvents, type Job, type Worker } from 'bullmq';
import pg from 'pg';
import { readCaseCategoryRules } from '../src/case-category-config.ts';
import type { CompiledCategoryRules } from '../src/domain/case-categories.ts';
import { caseSync, planCaseSync, type CaseSyncResult } from '../src/processors/case-sync.processor.ts';

// Other systems write the cases table directly. Here they are plain pg
// connections with their own transactions, racing real case-sync jobs run by
// real BullMQ workers against a real PostgreSQL. Every assertion is read
// back from case_sync_log, whose UNIQUE (case_id, version) plus the runs'
// own counts show that each change was processed exactly once.

const BATCH = 25;
const SHARED_TIMESTAMP = '2001-01-01T00:00:00Z';

let database: TestDatabase;
let dbs: Db[];
let pool: pg.Pool;
let redis: Redis;
let producer: JobProducer;
let events: QueueEvents;
let eventsConnection: Redis;
let workers: Worker[];
let rules: CompiledCategoryRules;
let tenantId: string;
let knowledgeBaseId: string;
let jobCounter = 0;
const allRuns: CaseSyncResult[] = [];

/** Subjects whose category the default rules must find, and descriptions that stay neutral. */
const TOPICS: [string, string][] = [
  ['Battery life', 'hardware'],
  ['Network problem', 'network'],
  ['Software bug', 'software'],
  ['Refund request', 'billing'],
  ['Account access', 'account'],
  ['Phishing email received', 'security'],
  ['Dashboard is very slow', 'performance'],
  ['Product recommendation', 'other'],
];

interface Seed {
  externalId: string;
  subject: string;
  description: string;
  resolution: string;
  status: string;
}

function seeds(prefix: string, count: number): Seed[] {
  return Array.from({ length: count }, (_, i) => ({
    externalId: `${prefix}-${i}`,
    subject: TOPICS[i % TOPICS.length]![0],
    description: i % 70 === 0 ? 'short' : `Customer ${prefix} ${i} wrote in about this on day ${i % 28} and is waiting for an answer.`,
    resolution: i % 50 === 0 ? '' : i % 3 === 0 ? `Solved on call ${i}.` : '',
    status: i % 50 === 0 || i % 3 === 0 ? 'closed' : 'open',
  }));
}

/** Inserts like another system would: one statement, its own timestamps (or the database's now()). */
async function insertCases(client: pg.Pool | pg.PoolClient, rows: Seed[], timestamp?: string): Promise<void> {
  await client.query(
    `INSERT INTO cases (tenant_id, knowledge_base_id, external_id, subject, description, resolution, status, created_at, updated_at)
     SELECT $1, $2, e, s, d, r, st, coalesce($8::timestamptz, now()), coalesce($8::timestamptz, now())
     FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(e, s, d, r, st)`,
    [
      tenantId,
      knowledgeBaseId,
      rows.map((r) => r.externalId),
      rows.map((r) => r.subject),
      rows.map((r) => r.description),
      rows.map((r) => r.resolution),
      rows.map((r) => r.status),
      timestamp ?? null,
    ],
  );
}

async function updateCases(client: pg.Pool | pg.PoolClient, externalIds: string[], tag: string): Promise<void> {
  const result = await client.query(`UPDATE cases SET description = description || $3 WHERE tenant_id = $1 AND external_id = ANY($2::text[])`, [
    tenantId,
    externalIds,
    ` Update ${tag}.`,
  ]);
  expect(result.rowCount).toBe(externalIds.length);
}

const ids = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`);

async function enqueueSync(): Promise<Job> {
  return producer.enqueue(QueueName.maintenance, 'case-sync', { trigger: 'manual' }, { priority: Priority.LOW, jobId: `sync-${++jobCounter}` });
}

async function finished(job: Job): Promise<CaseSyncResult> {
  const result = (await job.waitUntilFinished(events, 180_000)) as CaseSyncResult;
  allRuns.push(result);
  return result;
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Versions logged per external id, ascending. */
async function loggedVersions(): Promise<Map<string, number[]>> {
  const { rows } = await pool.query<{ externalId: string; versions: number[] }>(
    `SELECT c.external_id AS "externalId", array_agg(l.version ORDER BY l.version) AS versions
     FROM cases c JOIN case_sync_log l ON l.case_id = c.id WHERE c.tenant_id = $1 GROUP BY c.external_id`,
    [tenantId],
  );
  return new Map(rows.map((r) => [r.externalId, r.versions]));
}

async function scalar(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(sql, params);
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  database = await createTestDatabase();
  // One Prisma client per worker: two sync runs really hold two transactions at once.
  dbs = [createDb(database.url, { poolSize: 4 }), createDb(database.url, { poolSize: 4 })];
  pool = new pg.Pool({ connectionString: database.url, max: 12 });
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('case-sync'));
  eventsConnection = redis.duplicate();
  events = new QueueEvents(QueueName.maintenance, { connection: eventsConnection, prefix: producer.prefix });
  await events.waitUntilReady();
  const read = readCaseCategoryRules(undefined);
  if (!read.ok) throw new Error(read.problems.join('; '));
  rules = read.rules;
  const tenants = new TenantRepository(dbs[0]!);
  tenantId = await tenants.ensureTenantWithKey('cases', 'case-sync-key-123');
  knowledgeBaseId = await tenants.knowledgeBaseId(tenantId, 'default');
  const log = createLogger('maintenance', 'silent');
  workers = dbs.map((db) =>
    createWorker({
      queue: QueueName.maintenance,
      handlers: someHandlers(QueueName.maintenance, {
        'case-sync': (data, ctx) => caseSync(data, ctx, { cases: new CaseRepository(db), producer, rules, batchSize: BATCH }),
      }),
      connection: redis,
      producer,
      log,
      registry: createMetrics('maintenance').registry,
      concurrency: 1,
    }),
  );
  await Promise.all(workers.map((w) => w.waitUntilReady()));
}, 60_000);

afterAll(async () => {
  await Promise.all((workers ?? []).map((w) => w.close()));
  await events?.close();
  await eventsConnection?.quit();
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await pool?.end();
  await Promise.all((dbs ?? []).map((db) => db.$disconnect()));
  await database?.drop();
}, 60_000);

describe('case sync', () => {
  it('processes every case another system inserted once: category, completeness, document, chunks, embedding at LOW priority', async () => {
    await insertCases(pool, seeds('seed', 300));
    const run = await finished(await enqueueSync());
    expect(run).toMatchObject({ processed: 300, alreadyProcessed: 0, documentsToEmbed: 300, staleChunks: 0 });
    expect(run.batches).toBe(300 / BATCH);
    expect(run.categories).toEqual(
      Object.fromEntries(TOPICS.map(([, category], i) => [category, seeds('seed', 300).filter((_, j) => j % TOPICS.length === i).length])),
    );

    const versions = await loggedVersions();
    expect(versions.size).toBe(300);
    expect([...versions.values()].every((v) => v.length === 1 && v[0] === 1)).toBe(true);
    expect(await scalar(`SELECT count(*) n FROM case_sync_log WHERE run_id = $1`, [run.runId])).toBe(300);
    expect(await scalar(`SELECT count(*) n FROM cases WHERE synced_version < version`)).toBe(0);

    // Completeness: closed without resolution (every 50th), too short a description (every 70th).
    const { rows: incomplete } = await pool.query<{ externalId: string; missing: string[] }>(
      `SELECT external_id AS "externalId", missing_fields AS missing FROM cases WHERE NOT complete ORDER BY external_id`,
    );
    const expected = seeds('seed', 300)
      .map((s, i) => ({ externalId: s.externalId, missing: [...(i % 70 === 0 ? ['description'] : []), ...(i % 50 === 0 ? ['resolution'] : [])] }))
      .filter((s) => s.missing.length > 0)
      .sort((a, b) => (a.externalId < b.externalId ? -1 : 1));
    expect(incomplete).toEqual(expected);
    expect(run.incomplete).toBe(expected.length);

    // One document per case, keyed case://<externalId>, with its metadata and chunks.
    const { rows: docs } = await pool.query(
      `SELECT d.id, d.url, d.title, d.content_type, d.source, d.status, d.metadata, c.category, c.external_id,
              (SELECT count(*)::int FROM chunks ch WHERE ch.document_id = d.id) AS chunks
       FROM cases c JOIN documents d ON d.id = c.document_id`,
    );
    expect(docs).toHaveLength(300);
    for (const d of docs) {
      expect(d).toMatchObject({ url: `case://${d.external_id}`, content_type: 'case', source: 'cases', status: 'indexing' });
      expect(d.metadata).toMatchObject({ category: d.category, status: expect.any(String), priority: '', product: '' });
      expect(d.chunks).toBeGreaterThan(0);
    }

    const jobs = (await producer.queue(QueueName.embed).getJobs(['prioritized', 'waiting'])).filter((j) => j.name === 'embed-documents');
    expect(jobs.every((j) => priorityClass(j.opts.priority) === Priority.LOW && j.data.tenantId === tenantId && j.data.documentIds.length <= 1000)).toBe(true);
    expect(new Set(jobs.flatMap((j) => j.data.documentIds as string[]))).toEqual(new Set(docs.map((d) => d.id)));

    const again = await finished(await enqueueSync());
    expect(again).toMatchObject({ processed: 0, batches: 0, embedJobs: 0 });
  }, 180_000);

  it('a change made while its case is being processed stays pending and is processed on its own', async () => {
    await updateCases(pool, ['seed-1'], 'before');
    const cases = new CaseRepository(dbs[0]!);
    let writer: Promise<unknown> | undefined;
    const batch = await cases.syncBatch({ limit: 100, runId: 'locked-run' }, async (claimed) => {
      expect(claimed.map((c) => [c.externalId, c.version])).toEqual([['seed-1', 2]]);
      writer = pool.query(`UPDATE cases SET resolution = 'Replaced the battery.' WHERE external_id = 'seed-1'`);
      // The writer waits on the claimed row's lock until this transaction commits.
      await until(async () => (await scalar(`SELECT count(*) n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)) > 0);
      return planCaseSync(claimed, rules);
    });
    await writer;
    expect(batch.processed.map((p) => p.version)).toEqual([2]);
    const { rows } = await pool.query(`SELECT version, synced_version FROM cases WHERE external_id = 'seed-1'`);
    expect(rows[0]).toEqual({ version: 3, synced_version: 2 });

    const run = await finished(await enqueueSync());
    expect(run.processed).toBe(1);
    expect((await loggedVersions()).get('seed-1')).toEqual([1, 2, 3]);
    const doc = await pool.query(`SELECT d.markdown FROM documents d JOIN cases c ON c.document_id = d.id WHERE c.external_id = 'seed-1'`);
    expect(doc.rows[0].markdown).toContain('## Resolution\n\nReplaced the battery.');
  }, 120_000);

  it('a change of status alone rewrites the document metadata and embeds nothing; a renamed case gets a new document and the old one goes', async () => {
    await pool.query(`UPDATE documents SET status = 'indexed' WHERE id = (SELECT document_id FROM cases WHERE external_id = 'seed-131')`);
    await pool.query(`UPDATE cases SET status = 'pending customer' WHERE external_id = 'seed-131'`);
    const statusOnly = await finished(await enqueueSync());
    expect(statusOnly).toMatchObject({ processed: 1, documentsToEmbed: 0, staleChunks: 0, embedJobs: 0 });
    const doc = await pool.query(`SELECT d.status, d.metadata FROM documents d JOIN cases c ON c.document_id = d.id WHERE c.external_id = 'seed-131'`);
    expect(doc.rows[0]).toMatchObject({ status: 'indexed', metadata: { status: 'pending customer' } });

    const old = (await pool.query(`SELECT document_id FROM cases WHERE external_id = 'seed-130'`)).rows[0].document_id as string;
    const oldChunks = (await pool.query(`SELECT id FROM chunks WHERE document_id = $1`, [old])).rows.map((r) => r.id as string);
    await pool.query(`UPDATE cases SET external_id = 'seed-130-renamed' WHERE external_id = 'seed-130'`);
    const renamed = await finished(await enqueueSync());
    expect(renamed).toMatchObject({ processed: 1, documentsToEmbed: 1, staleChunks: oldChunks.length });
    expect(await scalar(`SELECT count(*) n FROM documents WHERE id = $1`, [old])).toBe(0);
    const now = await pool.query(`SELECT d.id, d.url FROM documents d JOIN cases c ON c.document_id = d.id WHERE c.external_id = 'seed-130-renamed'`);
    expect(now.rows[0].url).toBe('case://seed-130-renamed');
    const jobs = await producer.queue(QueueName.embed).getJobs(['prioritized', 'waiting']);
    const job = jobs.find((j) => j.name === 'embed-documents' && (j.data.documentIds as string[]).includes(now.rows[0].id));
    expect(job?.data.staleChunkIds).toEqual(expect.arrayContaining(oldChunks));
  }, 120_000);

  it('with writers committing out of order and sharing old timestamps during a sync, the next sync leaves every change processed exactly once', async () => {
    const before = new Map([...(await loggedVersions())].map(([k, v]) => [k, v.length]));
    // Committed before the sync: enough pending work that the sync runs for many batches.
    await updateCases(pool, ids('seed', 150, 300), 'pre');
    await insertCases(pool, seeds('new', 600), SHARED_TIMESTAMP);

    // A transaction that begins before the sync and commits after it, with rows older than anything synced.
    const late = await pool.connect();
    await late.query('BEGIN');
    await insertCases(late, seeds('late', 30), SHARED_TIMESTAMP);
    await updateCases(late, ids('seed', 2, 22), 'late');

    const syncJob = await enqueueSync();
    await until(async () => (await scalar(`SELECT count(*) n FROM case_sync_log WHERE run_id = $1`, [syncJob.id])) > 0);

    // Writers in parallel while the sync runs; w1 began first and commits after w2.
    const stateAtCommit: string[] = [];
    const writer = async (name: string, updates: string[], gate?: Promise<void>) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await insertCases(client, seeds(name, 25), SHARED_TIMESTAMP);
        await updateCases(client, updates, name);
        await gate;
        await client.query('COMMIT');
        stateAtCommit.push(await syncJob.getState());
      } finally {
        client.release();
      }
    };
    let openGate!: () => void;
    const w2Committed = new Promise<void>((r) => (openGate = r));
    await Promise.all([
      writer('w1', ids('seed', 22, 47), w2Committed),
      writer('w2', ids('seed', 47, 72)).then(openGate),
      writer('w3', ids('seed', 72, 97)),
      writer('w4', ids('seed', 97, 122)),
    ]);
    const during = await finished(syncJob);
    await late.query('COMMIT');
    late.release();
    // The test only means something if the writers really committed while the sync ran.
    expect(stateAtCommit.filter((s) => s === 'active').length).toBeGreaterThan(0);

    const next = await finished(await enqueueSync());
    expect(during.alreadyProcessed + next.alreadyProcessed).toBe(0);
    expect(await scalar(`SELECT count(*) n FROM cases WHERE synced_version < version`)).toBe(0);

    // Every case changed once since the first sync has exactly one more version logged; every new case exactly one.
    const versions = await loggedVersions();
    const changedOnce = [...ids('seed', 150, 300), ...ids('seed', 2, 22), ...ids('seed', 22, 122)];
    for (const id of changedOnce) expect([id, versions.get(id)]).toEqual([id, Array.from({ length: before.get(id)! + 1 }, (_, i) => i + 1)]);
    const newIds = ['new', 'late', 'w1', 'w2', 'w3', 'w4'].flatMap((p) => seeds(p, p === 'new' ? 600 : p === 'late' ? 30 : 25).map((s) => s.externalId));
    for (const id of newIds) expect([id, versions.get(id)]).toEqual([id, [1]]);
    expect(during.processed + next.processed).toBe(changedOnce.length + newIds.length);
    const logged = await scalar(`SELECT count(*) n FROM case_sync_log WHERE run_id = ANY($1::text[])`, [[during.runId, next.runId]]);
    expect(logged).toBe(during.processed + next.processed);

    // Each case's document reflects its latest version.
    const stale = await scalar(`SELECT count(*) n FROM cases c JOIN documents d ON d.id = c.document_id WHERE position(trim(c.description) IN d.markdown) = 0`);
    expect(stale).toBe(0);
  }, 300_000);

  it('two sync runs at once never process a case version twice', async () => {
    await insertCases(pool, seeds('pair', 800));
    await updateCases(pool, ids('new', 0, 200), 'pair');
    const total = await scalar(`SELECT count(*) n FROM cases WHERE synced_version < version`);
    expect(total).toBe(1000);

    const [a, b] = await Promise.all([enqueueSync(), enqueueSync()]).then((jobs) => Promise.all(jobs.map(finished)));
    expect(a!.processed + b!.processed).toBe(1000);
    // Both runs took part: the claims really raced.
    expect(a!.processed).toBeGreaterThan(0);
    expect(b!.processed).toBeGreaterThan(0);
    expect(a!.alreadyProcessed + b!.alreadyProcessed).toBe(0);
    expect(await scalar(`SELECT count(*) n FROM case_sync_log WHERE run_id = $1`, [a!.runId])).toBe(a!.processed);
    expect(await scalar(`SELECT count(*) n FROM case_sync_log WHERE run_id = $1`, [b!.runId])).toBe(b!.processed);
    expect(await scalar(`SELECT count(*) n FROM cases WHERE synced_version < version`)).toBe(0);
    // Across every run of this file: one log row per processed version, and one document per case.
    expect(await scalar(`SELECT count(*) n FROM case_sync_log`)).toBe(allRuns.reduce((n, r) => n + r.processed, 0) + 1);
    expect(await scalar(`SELECT count(*) n FROM documents WHERE content_type = 'case'`)).toBe(await scalar(`SELECT count(*) n FROM cases`));
  }, 300_000);
});

describe('case categories configuration', () => {
  it('a bad rules file stops the maintenance service at start, naming KBFLOW_CASE_CATEGORIES_FILE and the bad entry', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kbflow-categories-'));
    try {
      const file = path.join(dir, 'categories.json');
      await writeFile(file, JSON.stringify({ categories: { hardware: { battery: -2 } } }));
      const run = (value: string) =>
        spawnSync(process.execPath, [path.join(REPO_ROOT, 'services/maintenance/src/main.ts')], {
          env: { PATH: process.env.PATH ?? '', KBFLOW_CASE_CATEGORIES_FILE: value },
          encoding: 'utf8',
          timeout: 20_000,
        });
      const bad = run(file);
      expect(bad.status).toBe(1);
      expect(bad.stdout + bad.stderr).toMatch(/KBFLOW_CASE_CATEGORIES_FILE: .*categories\.hardware\.battery/);
      const missing = run(path.join(dir, 'absent.json'));
      expect(missing.status).toBe(1);
      expect(missing.stdout + missing.stderr).toMatch(/KBFLOW_CASE_CATEGORIES_FILE: .*absent\.json cannot be read \(ENOENT\)/);
      await writeFile(file, '{"categories": ');
      const broken = run(file);
      expect(broken.stdout + broken.stderr).toMatch(/KBFLOW_CASE_CATEGORIES_FILE: .*is not valid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
