import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueName } from '@kbflow/queues';
import { testRedisUrl } from '@kbflow/testing';
import { LanceDbVectorStore } from '@kbflow/vector-store';
import { assertQueuesSettled, vectorIds } from './support/assert-nothing-lost.ts';
import { FaultStack, sleep, WORKERS, type Tenant } from './support/fault-stack.ts';
import { QueueWatch } from './support/queue-watch.ts';
import { assertTenantsApart, ticketRecords } from './support/tenants-apart.ts';

// kill -9 of maintenance while its vectorization sweep runs (issue 14,
// fault tests). Two tenants' records are indexed, then the vector store
// loses most of their vectors (as a restore from an old snapshot would) and
// some chunks are left never indexed; the sweep finds the drift and queues
// the re-embedding, and is killed mid-run. Its job comes back through the
// stalled-job check and runs again: every chunk must end indexed with
// exactly one vector, and nothing fails or is dead-lettered.
const LOCK_MS = 5_000;
const STALLED_MS = 5_000;
const ADMIN_KEY = 'faults-admin-key';
const RECORDS = { dev: 3_000, other: 1_000 };
/** Every LOST_EVERY-th chunk of each tenant loses its vector; every UNINDEXED_EVERY-th of those is also marked never indexed. */
const LOST_EVERY = 2;
const UNINDEXED_EVERY = 5;

let stack: FaultStack;
let watch: QueueWatch;
let dev: Tenant;
let other: Tenant;
const taskIds: Record<string, string[]> = { dev: [], other: [] };

beforeAll(async () => {
  stack = await FaultStack.start({
    label: 'faults-maintenance',
    redisUrl: testRedisUrl(),
    // Grace 0: the drift the test makes is judged at once (nothing else is in flight when the sweep runs).
    env: { KBFLOW_LOCK_DURATION_MS: String(LOCK_MS), KBFLOW_STALLED_INTERVAL_MS: String(STALLED_MS), KBFLOW_SWEEP_GRACE_MS: '0' },
  });
  watch = await QueueWatch.start(stack.redisUrl, stack.prefix, [QueueName.embed, QueueName.maintenance]);
  dev = await stack.devTenant();
  other = await stack.createTenant('faults-other');
}, 120_000);

afterAll(async () => {
  await watch?.close();
  const stuck = await stack?.close();
  if (stuck?.length) throw new Error(`did not exit within 30 s of SIGTERM: ${stuck.join(', ')}`);
}, 90_000);

/** Deletes the vectors of a tenant's chunks and marks some of those never indexed; returns how many of each. */
async function makeDrift(tenant: Tenant): Promise<{ lost: number; unindexed: number }> {
  const chunks = await stack.db.chunk.findMany({ where: { tenantId: tenant.id }, select: { id: true }, orderBy: { id: 'asc' } });
  const lost = chunks.filter((_, i) => i % LOST_EVERY === 0).map((c) => c.id);
  const unindexed = lost.filter((_, i) => i % UNINDEXED_EVERY === 0);
  const store = new LanceDbVectorStore({ dir: stack.lanceDir, table: stack.env.KBFLOW_VECTOR_COLLECTION ?? 'kbflow_chunks' });
  try {
    await store.deleteByIds(lost);
  } finally {
    await store.close();
  }
  await stack.db.$executeRaw`DELETE FROM indexed_chunks WHERE chunk_id = ANY(${unindexed}::uuid[])`;
  await stack.db.$executeRaw`UPDATE documents SET status = 'indexing' WHERE id IN (SELECT document_id FROM chunks WHERE id = ANY(${unindexed}::uuid[]))`;
  return { lost: lost.length, unindexed: unindexed.length };
}

async function triggerSweep(): Promise<string> {
  const res = await stack.api('POST', '/v1/schedules/vectorization-sweep/trigger', undefined, ADMIN_KEY);
  if (res.status !== 202) throw new Error(`sweep not triggered: ${res.status} ${JSON.stringify(res.json)}`);
  stack.note(`sweep ${res.json.jobId} triggered`);
  return res.json.jobId as string;
}

/** Every chunk of the tenant indexed and exactly one vector per chunk, under its id. */
async function vectorsOf(tenant: Tenant): Promise<{ chunks: number; unindexed: number; vectors: number; distinct: number; strays: number; missing: number }> {
  const chunks = await stack.db.chunk.findMany({ where: { tenantId: tenant.id }, select: { id: true, indexed: true } });
  const ids = await vectorIds(stack, tenant.id);
  const chunkIds = new Set(chunks.map((c) => c.id));
  const vectorSet = new Set(ids);
  return {
    chunks: chunks.length,
    unindexed: chunks.filter((c) => !c.indexed).length,
    vectors: ids.length,
    distinct: vectorSet.size,
    strays: ids.filter((id) => !chunkIds.has(id)).length,
    missing: chunks.filter((c) => !vectorSet.has(c.id)).length,
  };
}

describe('kill -9 of maintenance during a vectorization sweep', () => {
  let sweepJobId: string;
  let killedAt: number;

  it('the sweep runs again after the kill and every chunk ends with exactly one vector', async () => {
    taskIds.dev!.push(
      await stack.uploadRecords(
        dev,
        'default',
        'tickets',
        ticketRecords(RECORDS.dev, 'dev').map((r) => ({
          ...r,
          title: r.title.replace('Zephyrine', 'Quillon'),
          body: r.body.replaceAll('zephyrine', 'quillon'),
        })),
      ),
    );
    taskIds.other!.push(await stack.uploadRecords(other, 'default', 'tickets', ticketRecords(RECORDS.other, 'other')));
    for (const [name, ids] of Object.entries(taskIds)) {
      const task = await stack.waitForTask(ids[0]!, 240_000, name === 'dev' ? dev.key : other.key);
      expect(task.state).toBe('completed');
    }
    const before = { dev: await vectorsOf(dev), other: await vectorsOf(other) };
    expect(before.dev).toEqual(expect.objectContaining({ chunks: RECORDS.dev, unindexed: 0, vectors: RECORDS.dev, missing: 0 }));
    expect(before.other).toEqual(expect.objectContaining({ chunks: RECORDS.other, unindexed: 0, vectors: RECORDS.other, missing: 0 }));

    // Kill while the sweep's job runs; a kill that lands after it finished interrupted nothing: make the drift again and retry.
    const maintenance = stack.producer.queue(QueueName.maintenance);
    for (let attempt = 1; ; attempt++) {
      const drift = { dev: await makeDrift(dev), other: await makeDrift(other) };
      stack.note(`drift made: ${JSON.stringify(drift)}`);
      // One sweep per second at most (the trigger's job id is the second).
      await sleep(1_100);
      sweepJobId = await triggerSweep();
      for (const deadline = Date.now() + 60_000; ; await sleep(10)) {
        const state = await maintenance.getJobState(sweepJobId);
        if (state === 'active' || state === 'completed') break;
        if (Date.now() > deadline) throw new Error(`sweep ${sweepJobId} still ${state} after 60 s`);
      }
      killedAt = (await stack.kill('maintenance')).at;
      const state = await maintenance.getJobState(sweepJobId);
      stack.note(`kill maintenance (try ${attempt}) with sweep ${sweepJobId} ${state}`);
      await stack.startFresh('maintenance');
      if (state === 'active') break;
      if (attempt === 4) throw new Error('4 kills of maintenance in a row landed after the sweep had finished');
      await waitForRepair();
    }

    // The job stalls back, runs again to the end, and the embedder re-embeds what it queued.
    for (const deadline = Date.now() + 120_000; ; await sleep(250)) {
      const state = await maintenance.getJobState(sweepJobId);
      if (state === 'completed') break;
      if (state === 'failed') throw new Error(`sweep ${sweepJobId} failed: ${(await maintenance.getJob(sweepJobId))?.failedReason}`);
      if (Date.now() > deadline) throw new Error(`sweep ${sweepJobId} still ${state} 120 s after the kill`);
    }
    const job = await maintenance.getJob(sweepJobId);
    stack.note(
      `sweep ${sweepJobId} completed: attemptsStarted ${job?.attemptsStarted} attemptsMade ${job?.attemptsMade} result ${JSON.stringify(job?.returnvalue)}`,
    );
    expect(watch.of('stalled', QueueName.maintenance, killedAt).map((e) => e.jobId)).toContain(sweepJobId);
    await waitForRepair();
  }, 420_000);

  /** Until both tenants' chunks are all indexed with one vector each, or 180 s. */
  async function waitForRepair(): Promise<void> {
    let last: unknown;
    for (const deadline = Date.now() + 180_000; ; await sleep(500)) {
      const now = { dev: await vectorsOf(dev), other: await vectorsOf(other) };
      const want = (n: number) => ({ chunks: n, unindexed: 0, vectors: n, distinct: n, strays: 0, missing: 0 });
      last = now;
      if (JSON.stringify(now) === JSON.stringify({ dev: want(RECORDS.dev), other: want(RECORDS.other) })) break;
      if (Date.now() > deadline) {
        expect(last).toEqual({ dev: want(RECORDS.dev), other: want(RECORDS.other) });
        return;
      }
    }
    stack.note(`repaired: ${JSON.stringify(last)}`);
  }

  it('no job failed or was dead-lettered, the run is recorded completed, and a second sweep finds no drift', async () => {
    expect(watch.of('failed').map((e) => `${e.queue}/${e.jobId}: ${e.reason}`)).toEqual([]);
    await assertQueuesSettled(stack);
    const runs = await stack.api('GET', '/v1/schedules/vectorization-sweep/runs', undefined, ADMIN_KEY);
    const run = runs.json.runs.find((r: { jobId: string }) => r.jobId === sweepJobId);
    expect(run).toEqual(expect.objectContaining({ status: 'completed', trigger: 'manual' }));
    await sleep(1_100);
    const again = await triggerSweep();
    const maintenance = stack.producer.queue(QueueName.maintenance);
    for (const deadline = Date.now() + 60_000; (await maintenance.getJobState(again)) !== 'completed'; await sleep(250)) {
      if (Date.now() > deadline) throw new Error(`sweep ${again} did not complete within 60 s`);
    }
    const result = (await maintenance.getJob(again))?.returnvalue as { drift: Record<string, number> };
    expect(result.drift).toEqual({ unindexed: 0, orphaned: 0, missing: 0 });
  }, 120_000);

  it("neither tenant sees the other's documents or tasks afterwards", async () => {
    const summary = await assertTenantsApart(stack, [
      { tenant: dev, query: 'quillon printer jams', taskIds: taskIds.dev! },
      { tenant: other, query: 'zephyrine printer jams', taskIds: taskIds.other! },
    ]);
    stack.note(`tenants apart: ${JSON.stringify(summary)}`);
  }, 120_000);

  it('the replacement workers still stop cleanly on SIGTERM', async () => {
    const exits = await stack.signalAll(WORKERS, 'SIGTERM', 30_000);
    expect(exits.map((e) => [e.name, e.exit])).toEqual(WORKERS.map((name) => [name, 0]));
  }, 60_000);
});
