// The task reaper (issue 14 item 8) on a real PostgreSQL and Redis: crawl
// tasks whose complete-crawl flow parent is gone or failed for good are
// re-driven once, then failed with the reason; tasks still progressing (a
// recent change, a parent waiting on children that exist) are left alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TaskRepository, type Db } from '@kbflow/db';
import { createLogger, createMetrics } from '@kbflow/observability';
import { PermanentError } from '@kbflow/errors';
import { createRedis, createWorker, crawlFlow, crawlJobId, JobProducer, Priority, QueueName, someHandlers, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import { reapTasks } from '../src/task-reaper.ts';

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let tasks: TaskRepository;
let tenantId: string;
let knowledgeBaseId: string;
const log = createLogger('reaper-test', 'silent');
const GRACE_MS = 60_000;

beforeAll(async () => {
  fixture = await createTenantFixture('reaper-test', { apiKey: 'reaper-test-key-1234567890' });
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('reaper'));
  tasks = new TaskRepository(db);
}, 60_000);

afterAll(async () => {
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
});

const reap = () => reapTasks({ tasks, producer, redis, graceMs: GRACE_MS }, log);

/** A running crawl with its flow enqueued; `quietForMs` backdates the task and its pages (nothing changed since). */
async function crawl(quietForMs: number): Promise<string> {
  const seeds = ['http://site.test/a', 'http://site.test/b'];
  const taskId = await tasks.createCrawlTask({
    tenantId,
    knowledgeBaseId,
    type: 'crawl',
    params: { seeds, maxPages: 10, maxDepth: 1, engine: 'http', origins: ['http://site.test'] },
  });
  await producer.enqueueFlow(crawlFlow({ tenantId, taskId, seeds, engine: 'http' }));
  const then = new Date(Date.now() - quietForMs);
  await db.task.update({ where: { id: taskId }, data: { state: 'running', createdAt: then, startedAt: then } });
  await db.$executeRaw`UPDATE task_pages SET updated_at = ${then}, created_at = ${then} WHERE task_id = ${taskId}::uuid`;
  return taskId;
}

const aggregate = () => producer.queue(QueueName.aggregate);

describe('task reaper', () => {
  it('a crawl whose complete-crawl job was removed is re-driven under the same job id, then failed with the reason if it stays stuck', async () => {
    const taskId = await crawl(2 * GRACE_MS);
    await (await aggregate().getJob(crawlJobId(taskId)))!.remove();

    expect(await reap()).toEqual([{ taskId, action: 'redriven', why: 'its completion job (complete-crawl) is gone' }]);
    const redriven = await aggregate().getJob(crawlJobId(taskId));
    expect([redriven?.name, redriven?.data.taskId, await redriven?.getState()]).toEqual(['complete-crawl', taskId, 'prioritized']);
    // Asked again before anything ran it: the job is waiting, so nothing to do.
    expect(await reap()).toEqual([]);

    // Lost again (a second Redis loss, say): the task is failed, with why, and its pages final.
    await redriven!.remove();
    expect(await reap()).toEqual([{ taskId, action: 'failed', why: 'its completion job (complete-crawl) is gone' }]);
    const view = await tasks.find(tenantId, taskId);
    expect(view?.state).toBe('failed');
    expect(view?.error).toBe(
      'stopped making progress (nothing changed for 1 min) and could not finish: its completion job (complete-crawl) is gone; re-driving its completion did not help',
    );
    expect([view?.progress.discovered, view?.progress.failed]).toEqual([2, 2]);
    expect(view?.finishedAt).toBeInstanceOf(Date);
    expect(await reap()).toEqual([]);
  });

  it('a complete-crawl that failed for good (dead-lettered) is retried with its attempts reset', async () => {
    const taskId = await crawl(2 * GRACE_MS);
    // Its children are done: the parent is replaced by one that fails its only attempt, as in a database outage.
    await (await aggregate().getJob(crawlJobId(taskId)))!.remove();
    await producer.enqueue(QueueName.aggregate, 'complete-crawl', { tenantId, taskId }, { priority: Priority.NORMAL, jobId: crawlJobId(taskId), attempts: 1 });
    const worker = createWorker({
      queue: QueueName.aggregate,
      handlers: someHandlers(QueueName.aggregate, {
        'complete-crawl': async () => {
          throw new PermanentError('database_gone', 'the database went away');
        },
      }),
      connection: redis,
      producer,
      log,
      registry: createMetrics('reaper-test').registry,
    });
    const failed = new Promise((resolve) => worker.once('failed', resolve));
    await failed;
    await worker.close();
    const before = await aggregate().getJob(crawlJobId(taskId));
    expect([await before?.getState(), before?.attemptsMade]).toEqual(['failed', 1]);

    expect(await reap()).toEqual([{ taskId, action: 'redriven', why: 'its completion job (complete-crawl) failed: database_gone: the database went away' }]);
    const after = await aggregate().getJob(crawlJobId(taskId));
    expect([await after?.getState(), after?.attemptsMade]).toEqual(['prioritized', 0]);
    expect((await tasks.find(tenantId, taskId))?.state).toBe('running');
  });

  it('leaves alone a crawl that changed within the grace period, and one whose completion waits on children that exist', async () => {
    const recent = await crawl(GRACE_MS / 2);
    await (await aggregate().getJob(crawlJobId(recent)))!.remove();
    const waiting = await crawl(2 * GRACE_MS);
    expect(await (await aggregate().getJob(crawlJobId(waiting)))!.getState()).toBe('waiting-children');

    expect((await reap()).map((r) => r.taskId).filter((id) => id === recent || id === waiting)).toEqual([]);
    expect((await tasks.find(tenantId, recent))?.state).toBe('running');
    expect((await tasks.find(tenantId, waiting))?.state).toBe('running');
  });
});
