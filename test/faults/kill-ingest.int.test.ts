import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, type Db } from '@kbflow/db';
import { createRedis, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import { apiClient, startE2eStack, startService, type E2eStack, type ServiceName, type ServiceProcess } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';

// The batched write paths of ingestion under SIGKILL: the api's streamed
// upload (one transaction fed batch by batch, RecordWriter) and the
// embedder's coalesced vector writes (CoalescingUpsert, across the
// embed-documents jobs running at once). Nothing may be half-written,
// lost or duplicated.
const KEY = 'faults-ingest-key';
const LOCK_MS = 5_000;
const RECORDS = 12_000;

let e2e: E2eStack;
let db: Db;
let redis: Redis;
let producer: JobProducer;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function ndjson(count: number, label: string): string[] {
  return Array.from(
    { length: count },
    (_, i) =>
      `${JSON.stringify({ id: `${label}-${i}`, title: `Ticket ${label} ${i}`, body: `Printer ${i % 97} jams after ${i % 13} pages; reference ${label}-${i}.` })}\n`,
  );
}

/** Replaces a service by a fresh process on the same environment (the stack's teardown then stops it). */
async function restart(name: ServiceName): Promise<ServiceProcess> {
  const fresh = await startService(name, e2e.env, { logDir: e2e.logDir, instance: Date.now() % 1000 });
  e2e.stack.services.set(name, fresh);
  return fresh;
}

beforeAll(async () => {
  e2e = await startE2eStack('faults-ingest', {
    services: ['api', 'embedder', 'aggregator'],
    env: {
      KBFLOW_DEV_API_KEY: KEY,
      KBFLOW_ADMIN_API_KEY: 'faults-ingest-admin',
      KBFLOW_LOCK_DURATION_MS: String(LOCK_MS),
      KBFLOW_STALLED_INTERVAL_MS: String(LOCK_MS),
      LOG_LEVEL: 'warn',
    },
  });
  db = createDb(e2e.database.url);
  redis = createRedis(e2e.env.REDIS_URL!);
  producer = new JobProducer(redis, e2e.prefix);
}, 120_000);

afterAll(async () => {
  await producer?.close();
  redis?.disconnect();
  await db?.$disconnect();
  await e2e?.teardown();
}, 60_000);

describe('kill -9 during record ingestion', () => {
  it('an api killed mid-upload leaves nothing of that upload behind, not even its task', async () => {
    const api = e2e.stack.services.get('api')!;
    const lines = ndjson(6_000, 'cut');
    // The first 4,000 rows at once (two of the writer's batches), then nothing: the upload hangs open.
    const body = new Readable({ read() {} });
    body.push(lines.slice(0, 4_000).join(''));
    const request = fetch(`http://127.0.0.1:${api.port}/v1/records?knowledgeBase=faults&source=cut`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
      body: Readable.toWeb(body) as ReadableStream,
      duplex: 'half',
    } as RequestInit).catch((error: unknown) => error);
    // Written but not committed: the api's transaction waits for more body.
    // A transaction holds an xid once it has written a row, whatever its last
    // statement was (a COPY into a temporary table, an INSERT into chunks...).
    await until(
      'the api to hold an open write',
      async () => {
        const rows = await db.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'idle in transaction' AND backend_xid IS NOT NULL`;
        return Number(rows[0]!.n) > 0 ? true : undefined;
      },
      60_000,
    );
    await api.stop('SIGKILL');
    await restart('api');
    // The upload failed (a reset connection), never answered.
    expect(await request).not.toHaveProperty('status');
    // PostgreSQL rolls the dead connection's transaction back once it notices the socket closed.
    await until(
      'the dead connection to be gone',
      async () => {
        const rows = await db.$queryRaw<
          { n: bigint }[]
        >`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
        return Number(rows[0]!.n) === 0 ? true : undefined;
      },
      30_000,
    );
    expect(await db.document.count()).toBe(0);
    expect(await db.chunk.count()).toBe(0);
    expect(await db.task.count()).toBe(0);
  }, 120_000);

  it('an embedder killed while its jobs share coalesced vector writes loses and duplicates no vector', async () => {
    const api = e2e.stack.services.get('api')!;
    const client = apiClient(() => `http://127.0.0.1:${api.port}`, KEY);
    const taskIds: string[] = [];
    for (const part of ['a', 'b']) {
      const res = await fetch(`http://127.0.0.1:${api.port}/v1/records?knowledgeBase=faults&source=kill`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
        body: ndjson(RECORDS / 2, part).join(''),
      });
      expect(res.status).toBe(202);
      taskIds.push(((await res.json()) as { taskId: string }).taskId);
    }
    // Kill while embed jobs are active and some, not all, documents are indexed.
    let held = 0;
    for (let attempt = 1; held === 0; attempt++) {
      await until(
        'the embedder to be mid-ingest',
        async () => {
          const active = (await producer.queue(QueueName.embed).getJobCounts('active')).active ?? 0;
          const indexed = await db.document.count({ where: { status: 'indexed' } });
          return active > 0 && indexed < RECORDS ? true : undefined;
        },
        120_000,
      );
      held = (await producer.queue(QueueName.embed).getJobCounts('active')).active ?? 0;
      await e2e.stack.services.get('embedder')!.stop('SIGKILL');
      await restart('embedder');
      if (attempt === 5 && held === 0) throw new Error('5 kills of the embedder landed between jobs');
    }
    for (const taskId of taskIds) {
      const task = await client.waitForTask(taskId, 300_000, { everyMs: 500 });
      expect(task.state).toBe('completed');
    }
    const documents = await db.document.findMany({ where: { source: 'kill' }, select: { id: true, status: true } });
    expect(documents).toHaveLength(RECORDS);
    expect(documents.filter((d) => d.status !== 'indexed')).toEqual([]);
    const chunks = await db.chunk.findMany({ select: { id: true, indexed: true } });
    expect(chunks.filter((c) => !c.indexed)).toEqual([]);
    const tenantId = (await db.task.findFirstOrThrow({ where: { id: taskIds[0]! }, select: { tenantId: true } })).tenantId;
    const store = new LanceDbVectorStore({ dir: e2e.lanceDir, table: 'kbflow_chunks' });
    let ids: string[];
    try {
      ids = await store.listIds({ tenantId });
    } finally {
      await store.close();
    }
    expect({ vectors: ids.length, distinct: new Set(ids).size }).toEqual({ vectors: chunks.length, distinct: chunks.length });
    const chunkIds = new Set(chunks.map((c) => c.id));
    expect(ids.filter((id) => !chunkIds.has(id))).toEqual([]);
  }, 420_000);
});
