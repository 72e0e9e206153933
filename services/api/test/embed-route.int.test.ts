import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createWorker, someHandlers, QueueName } from '@kbflow/queues';
import { UnrecoverableError } from 'bullmq';
import { startTestApi, type TestApi } from './support/test-api.ts';

// /v1/embed waits for its job by polling the job's state (the api does not
// follow the embed queue's event stream; see pollJob in query.routes.ts).

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ label: 'embed-route', queryTimeoutMs: 1500 });
});

afterAll(async () => {
  await api.close();
});

function embedWorker(embed: (texts: string[]) => Promise<number[][]>) {
  return createWorker({
    queue: QueueName.embed,
    handlers: someHandlers(QueueName.embed, {
      'embed-texts': async (data) => ({ model: 'test', dimensions: 2, vectors: await embed(data.texts) }),
    }),
    connection: api.redis,
    producer: api.producer,
    log: createLogger('embed-route-test', 'silent'),
    registry: createMetrics('embed-route-test').registry,
  });
}

describe('POST /v1/embed', () => {
  it('returns the job result, whether the job finishes at once or after several polls', async () => {
    let delayMs = 0;
    const worker = embedWorker(async (texts) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return texts.map((t) => [t.length, delayMs]);
    });
    try {
      const quick = await api.send('POST', '/v1/embed', { body: { texts: ['ab', 'abc'] } });
      expect(quick.status).toBe(200);
      expect(quick.json).toEqual({
        model: 'test',
        dimensions: 2,
        vectors: [
          [2, 0],
          [3, 0],
        ],
      });
      delayMs = 400;
      const slow = await api.send('POST', '/v1/embed', { body: { texts: ['abcd'] } });
      expect(slow.status).toBe(200);
      expect(slow.json.vectors).toEqual([[4, 400]]);
    } finally {
      await worker.close();
    }
  });

  it('a job that fails for good answers 502 with its error', async () => {
    const worker = embedWorker(async () => {
      throw new UnrecoverableError('provider rejected the input');
    });
    try {
      const res = await api.send('POST', '/v1/embed', { body: { texts: ['x'] } });
      expect(res.status).toBe(502);
      expect(res.json.error.message).toMatch(/provider rejected the input/);
    } finally {
      await worker.close();
    }
  });

  it('no worker within the deadline answers 504 and leaves the job queued', async () => {
    const queued = () => api.producer.queue(QueueName.embed).getJobCountByTypes('wait', 'prioritized');
    const before = await queued();
    const res = await api.send('POST', '/v1/embed', { body: { texts: ['nobody embeds this'] } });
    expect(res.status).toBe(504);
    expect(res.json.error.code).toBe('timeout');
    expect(await queued()).toBe(before + 1);
  });
});
