import { createWorker, createRedis, JobProducer, Priority, QueueName, someHandlers } from '@kbflow/queues';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { BenchContext } from '../context.ts';
import type { BenchmarkResult } from '../report/types.ts';
import { ratioOf } from '../report/types.ts';
import { summarize } from '../stats.ts';

// A no-op job: the smallest payload of the catalog, so what is measured is
// the queue machinery (and kbflow's wrapper around it), not work.
const QUEUE = QueueName.maintenance;
const JOB = 'health-check';
const CONCURRENCY = 16;
const ENQUEUE_CHUNK = 1000;

type Kind = 'kbflow' | 'raw';

/**
 * Enqueues `count` no-op jobs with addBulk (before any worker runs), then
 * starts one worker and times it until every job has completed. Both kinds
 * read the same queue shape: kbflow's prefix layout, default job options and
 * an explicit NORMAL priority, as every kbflow job has.
 */
async function drainOnce(ctx: BenchContext, kind: Kind, count: number): Promise<number> {
  const connection = createRedis(ctx.redisUrl);
  const producer = new JobProducer(connection, ctx.prefix(`queue-${kind}`));
  const queue = producer.queue(QUEUE);
  try {
    for (let i = 0; i < count; i += ENQUEUE_CHUNK) {
      const n = Math.min(ENQUEUE_CHUNK, count - i);
      await queue.addBulk(Array.from({ length: n }, () => ({ name: JOB, data: {}, opts: { priority: Priority.NORMAL } })));
    }
    let done = 0;
    let resolveDone!: () => void;
    const finished = new Promise<void>((resolve) => (resolveDone = resolve));
    const onCompleted = () => {
      if (++done === count) resolveDone();
    };
    const started = performance.now();
    const worker =
      kind === 'kbflow'
        ? createWorker({
            queue: QUEUE,
            handlers: someHandlers(QUEUE, { [JOB]: async () => undefined }),
            connection,
            producer,
            log: pino({ level: 'info' }, pino.destination('/dev/null')),
            registry: new Registry(),
            concurrency: CONCURRENCY,
          })
        : new Worker(QUEUE, async () => undefined, { connection, prefix: producer.prefix, concurrency: CONCURRENCY });
    worker.on('completed', onCompleted);
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await worker.close();
    await queue.obliterate({ force: true });
    return count / seconds;
  } finally {
    await producer.close();
    connection.disconnect();
  }
}

/**
 * Queue overhead: no-op jobs per second through kbflow's `createWorker`
 * against a raw BullMQ `Worker` with the same concurrency on the same Redis.
 * Runs alternate (raw, kbflow, raw, ...) so drift on a shared machine hits
 * both alike.
 */
export async function queueOverhead(ctx: BenchContext): Promise<BenchmarkResult> {
  const started = Date.now();
  const jobs = ctx.quick ? 5_000 : 20_000;
  const runs = ctx.quick ? 3 : 5;
  ctx.say(`queue: warm-up (${jobs / 10} jobs each)`);
  await drainOnce(ctx, 'raw', jobs / 10);
  await drainOnce(ctx, 'kbflow', jobs / 10);
  const raw: number[] = [];
  const kbflow: number[] = [];
  for (let i = 0; i < runs; i++) {
    raw.push(await drainOnce(ctx, 'raw', jobs));
    kbflow.push(await drainOnce(ctx, 'kbflow', jobs));
    ctx.say(`queue: run ${i + 1}/${runs}: raw ${raw.at(-1)!.toFixed(0)} jobs/s, kbflow ${kbflow.at(-1)!.toFixed(0)} jobs/s`);
  }
  const figure = {
    key: 'queue.noop-jobs-per-s',
    label: 'no-op jobs/s, one worker',
    unit: 'jobs/s',
    better: 'higher' as const,
    value: summarize(kbflow),
    baseline: { label: 'raw BullMQ Worker', value: summarize(raw), measured: true },
  };
  const ratio = ratioOf(figure)!;
  const met = ratio >= 0.8;
  return {
    name: 'queue',
    title: 'Queue overhead',
    method:
      `${jobs.toLocaleString('en')} no-op \`${QUEUE}/${JOB}\` jobs (NORMAL priority, kbflow's default job options) enqueued with addBulk ` +
      `before the worker starts; one worker, concurrency ${CONCURRENCY}, timed from its start until every job completed. ` +
      `kbflow: \`createWorker\` from @kbflow/queues (payload validation, per-job child logger, metrics, rate-limit support, dead-lettering). ` +
      `Baseline: \`new Worker()\` of BullMQ with a no-op processor. ${runs} alternating runs each after one warm-up.`,
    figures: [
      {
        ...figure,
        target: {
          text: '≥ 80 % of raw BullMQ',
          met,
          ...(met ? {} : { gap: `${(ratio * 100).toFixed(0)} % of raw: ${((0.8 - ratio) * 100).toFixed(0)} points short` }),
        },
      },
    ],
    notes: [],
    durationMs: Date.now() - started,
  };
}
