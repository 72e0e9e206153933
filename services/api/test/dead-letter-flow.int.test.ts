import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, someHandlers, Priority, QueueName } from '@kbflow/queues';
import type { Worker } from 'bullmq';
import { ADMIN_KEY, startTestApi, type TestApi } from './support/test-api.ts';

// A job that always fails, through a real kbflow worker: three attempts with
// growing delays, then the dead-letter queue; a replay through the API runs
// it again.
let api: TestApi;
let worker: Worker;
const attemptsAt: number[] = [];
let failing = true;
let replayedRuns = 0;

beforeAll(async () => {
  api = await startTestApi({ label: 'dlq-flow' });
  worker = createWorker({
    queue: QueueName.maintenance,
    handlers: someHandlers(QueueName.maintenance, {
      'health-check': async () => {
        if (failing) {
          attemptsAt.push(Date.now());
          throw new Error('the dependency is broken for good');
        }
        replayedRuns++;
        return { ok: true };
      },
      'compact-vector-store': async () => ({}),
    }),
    connection: api.redis,
    producer: api.producer,
    log: createLogger('dlq-flow', 'silent'),
    registry: createMetrics('dlq-flow').registry,
    concurrency: 1,
  });
});

afterAll(async () => {
  await worker.close();
  await api.close();
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a job that always fails', () => {
  it('is tried 3 times with growing delays, then lands in dead letters; a replay runs it again', async () => {
    const job = await api.producer.enqueue(QueueName.maintenance, 'health-check', {}, { priority: Priority.LOW });
    await until(async () => (await api.producer.queue(QueueName.deadLetter).count()) === 1, 30_000);

    expect(attemptsAt).toHaveLength(3);
    const gaps = [attemptsAt[1]! - attemptsAt[0]!, attemptsAt[2]! - attemptsAt[1]!];
    // Backoff is 2^n s with ±25 % jitter: about 2 s, then about 4 s.
    expect(gaps[0]).toBeGreaterThanOrEqual(1500);
    expect(gaps[1]).toBeGreaterThanOrEqual(3000);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);

    const listed = await api.send('GET', '/v1/dead-letters', { key: ADMIN_KEY });
    expect(listed.status).toBe(200);
    const entry = listed.json.deadLetters[0];
    expect(entry).toMatchObject({ queue: 'maintenance', jobName: 'health-check', jobId: job.id, attempts: 3 });
    expect(entry.error).toContain('the dependency is broken for good');

    failing = false;
    const replay = await api.send('POST', `/v1/dead-letters/${entry.id}/replay`, { key: ADMIN_KEY });
    expect(replay.status).toBeLessThan(300);
    await until(async () => replayedRuns === 1, 15_000);
    expect(await api.producer.queue(QueueName.deadLetter).count()).toBe(0);
  }, 60_000);
});
