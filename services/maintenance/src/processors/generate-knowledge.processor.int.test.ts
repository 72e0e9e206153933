// generateKnowledgeRun on a real Redis with a real aggregate worker: the
// schedule's firing queues `aggregate/generate-knowledge` at LOW under an id
// made of its own job id (colons replaced) and attempt, waits for it and
// returns its result; an aggregator failure fails the run, and the retry
// queues a job of its own; a run that waits too long fails on its timeout.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { PermanentError } from '@kbflow/errors';
import { createRedis, createWorker, JobProducer, Priority, priorityClass, QueueName, someHandlers, type JobContext, type Redis } from '@kbflow/queues';
import { testRedisUrl, uniquePrefix } from '@kbflow/testing';
import { QueueEvents, type Job, type Worker } from 'bullmq';
import { generateKnowledgeRun, type GenerateKnowledgeRunDeps } from './generate-knowledge.processor.ts';

const log = createLogger('knowledge-run-test', 'silent');

let redis: Redis;
let eventsConnection: Redis;
let producer: JobProducer;
let aggregateEvents: QueueEvents;
let worker: Worker;
let deps: GenerateKnowledgeRunDeps;
/** What the aggregate worker does with a job, by its correlation id. */
const behaviour = new Map<string, 'fail' | 'hold'>();
let release: () => void = () => undefined;
const held = new Promise<void>((resolve) => (release = resolve));

/** The maintenance job a schedule firing creates (a real scheduler job: its id holds colons). */
async function schedulerJob(name: string): Promise<Job> {
  const queue = producer.queue(QueueName.maintenance);
  await queue.upsertJobScheduler(name, { every: 3_600_000 }, { name: 'generate-knowledge', data: { trigger: 'schedule' }, opts: { priority: Priority.LOW } });
  const jobs = await queue.getJobs(['delayed', 'prioritized', 'waiting']);
  const job = jobs.find((j) => String(j.repeatJobKey) === name);
  if (!job) throw new Error(`no job of scheduler ${name}`);
  return job;
}

const ctxOf = (job: Job, correlationId: string): JobContext => ({ job, log, correlationId });

beforeAll(async () => {
  redis = createRedis(testRedisUrl());
  eventsConnection = redis.duplicate();
  producer = new JobProducer(redis, uniquePrefix('knowledge-run'));
  aggregateEvents = new QueueEvents(QueueName.aggregate, { connection: eventsConnection, prefix: producer.prefix });
  await aggregateEvents.waitUntilReady();
  worker = createWorker({
    queue: QueueName.aggregate,
    handlers: someHandlers(QueueName.aggregate, {
      'generate-knowledge': async (data) => {
        const what = behaviour.get(data.correlationId ?? '');
        if (what === 'fail') throw new PermanentError('knowledge_failed', 'cases table unreadable');
        if (what === 'hold') await held;
        return { created: 2, updated: 0, unchanged: 1, retired: 0 };
      },
    }),
    connection: redis,
    producer,
    log,
    registry: createMetrics('knowledge-run-test').registry,
    concurrency: 2,
  });
  deps = { producer, aggregateEvents, timeoutMs: 20_000 };
});

afterAll(async () => {
  release();
  await worker.close();
  await aggregateEvents.close();
  await eventsConnection.quit();
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
});

describe('generateKnowledgeRun', () => {
  it("queues the aggregator's job at LOW under the firing's id and attempt, and returns its result", async () => {
    const job = await schedulerJob('generate-knowledge');
    expect(String(job.id)).toContain(':');

    const out = await generateKnowledgeRun({ trigger: 'schedule' }, ctxOf(job, 'run-ok'), deps);

    expect(out).toEqual({
      aggregateJobId: `generate-knowledge-${String(job.id).replace(/:/g, '-')}-0`,
      result: { created: 2, updated: 0, unchanged: 1, retired: 0 },
    });
    const aggregate = await producer.queue(QueueName.aggregate).getJob(out.aggregateJobId);
    expect(aggregate?.name).toBe('generate-knowledge');
    expect(aggregate?.data).toMatchObject({ correlationId: 'run-ok' });
    expect(priorityClass(aggregate?.opts.priority)).toBe(Priority.LOW);
  });

  it("fails when the aggregator's job fails, and the retried attempt queues a job of its own", async () => {
    const job = await schedulerJob('generate-knowledge-retry');
    behaviour.set('run-fail', 'fail');
    await expect(generateKnowledgeRun({ trigger: 'schedule', correlationId: 'run-fail' }, ctxOf(job, 'ignored'), deps)).rejects.toThrow(
      /cases table unreadable/,
    );

    behaviour.delete('run-fail');
    job.attemptsMade = 1;
    const out = await generateKnowledgeRun({ trigger: 'schedule', correlationId: 'run-fail' }, ctxOf(job, 'ignored'), deps);
    expect(out.aggregateJobId).toBe(`generate-knowledge-${String(job.id).replace(/:/g, '-')}-1`);
    expect(out.result).toMatchObject({ created: 2 });
    expect(await (await producer.queue(QueueName.aggregate).getJob(`generate-knowledge-${String(job.id).replace(/:/g, '-')}-0`))?.getState()).toBe('failed');
  });

  it('fails on its timeout while the aggregator is still at work', async () => {
    const job = await schedulerJob('generate-knowledge-slow');
    behaviour.set('run-slow', 'hold');
    await expect(generateKnowledgeRun({ trigger: 'manual', correlationId: 'run-slow' }, ctxOf(job, 'run-slow'), { ...deps, timeoutMs: 300 })).rejects.toThrow(
      /timed out/,
    );
    release();
  });
});
