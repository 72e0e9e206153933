// The webhook queue's worker as maintenance builds it (createWorker over the
// real Redis, the delivery log in a fresh PostgreSQL database, undici to a
// local receiver that fails on demand):
// - a receiver that answers 500 twice gets the event on the third attempt,
//   once, with one delivery id and a signature the test verifies itself;
// - with private networks refused, the delivery to a loopback receiver is
//   refused at connect time (DNS can change after registration), once, not
//   retried, and the attempt is in the log with the reason.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TaskRepository, WebhookRepository, type Db } from '@kbflow/db';
import { createLogger, createMetrics } from '@kbflow/observability';
import { createRedis, createWorker, emitWebhookEvent, JobProducer, QueueName, type Redis } from '@kbflow/queues';
import { createTenantFixture, testRedisUrl, uniquePrefix, type TenantFixture } from '@kbflow/testing';
import type { Worker } from 'bullmq';
import { deliverWebhook } from '../src/processors/deliver-webhook.processor.ts';
import { WebhookSender } from '../src/webhooks/webhook-sender.ts';

const SECRET = 'delivery-test-secret-0123456789';

let fixture: TenantFixture;
let db: Db;
let redis: Redis;
let producer: JobProducer;
let tasks: TaskRepository;
let webhooks: WebhookRepository;
let tenantId: string;
let knowledgeBaseId: string;
const workers: Worker[] = [];
const senders: WebhookSender[] = [];
let receiver: Server;
let receiverUrl: string;
const received: { deliveryId: string; status: number; valid: boolean; body: any }[] = [];
let failFirst = 0;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function startWorker(allowPrivateNetworks: boolean): void {
  const sender = new WebhookSender({ allowPrivateNetworks, timeoutMs: 5000 });
  senders.push(sender);
  workers.push(
    createWorker({
      queue: QueueName.webhook,
      handlers: { 'deliver-webhook': (data, ctx) => deliverWebhook(data, ctx, { webhooks, send: sender.send.bind(sender) }) },
      connection: redis,
      producer,
      log: createLogger('webhook-test', 'silent'),
      registry: createMetrics('webhook-test').registry,
      concurrency: 2,
    }),
  );
}

async function crawlTask(events: ('run.started' | 'run.completed' | 'run.failed')[]): Promise<string> {
  return tasks.createCrawlTask({
    tenantId,
    knowledgeBaseId,
    type: 'crawl',
    params: { seeds: ['http://site.test/'], maxPages: 1, maxDepth: 0, engine: 'http', origins: ['http://site.test'] },
    webhook: { url: `${receiverUrl}/hook`, events, secret: SECRET },
  });
}

beforeAll(async () => {
  fixture = await createTenantFixture('webhooks', { apiKey: 'webhooks-test-key' });
  ({ db, tenantId, knowledgeBaseId } = fixture);
  redis = createRedis(testRedisUrl());
  producer = new JobProducer(redis, uniquePrefix('webhooks'));
  tasks = new TaskRepository(db);
  webhooks = new WebhookRepository(db, tasks);
  const seen = new Map<string, number>();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [t, v1] = String(req.headers['kbflow-signature'])
        .split(',')
        .map((part) => part.slice(part.indexOf('=') + 1));
      const valid = v1 === createHmac('sha256', SECRET).update(`${t}.${raw}`).digest('hex');
      const deliveryId = String(req.headers['kbflow-delivery']);
      const n = (seen.get(deliveryId) ?? 0) + 1;
      seen.set(deliveryId, n);
      const status = n <= failFirst ? 500 : 200;
      received.push({ deliveryId, status, valid, body: JSON.parse(raw) });
      res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(senders.map((s) => s.close()));
  await Promise.all(producer.allQueues().map((q) => q.obliterate({ force: true })));
  await producer.close();
  await redis.quit();
  await fixture.close();
  await new Promise((resolve) => receiver.close(resolve));
}, 60_000);

describe('webhook delivery', () => {
  it('a receiver that answers 500 twice gets the event on the third attempt, once, signed, under one delivery id', async () => {
    failFirst = 2;
    startWorker(true);
    const taskId = await crawlTask(['run.started', 'run.completed']);
    await tasks.markRunning(taskId);
    expect(await emitWebhookEvent({ webhooks, producer }, taskId, 'run.started')).toBe(true);
    // Asked twice (a redelivered scrape job): still one delivery.
    expect(await emitWebhookEvent({ webhooks, producer }, taskId, 'run.started')).toBe(true);
    // Not subscribed: nothing queued.
    expect(await emitWebhookEvent({ webhooks, producer }, taskId, 'run.failed')).toBe(false);

    const log = await until('three attempts logged', async () => {
      const rows = await webhooks.list(tenantId, { taskId });
      return rows.length >= 3 ? rows : undefined;
    });
    expect(log.map((d) => [d.attempt, d.outcome, d.statusCode ?? null])).toEqual([
      [3, 'succeeded', 200],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
    expect(received.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(received.every((r) => r.valid)).toBe(true);
    expect(new Set(received.map((r) => r.deliveryId))).toEqual(new Set([`${taskId}.run.started`]));
    expect(received[2]!.body).toMatchObject({
      event: 'run.started',
      deliveryId: `${taskId}.run.started`,
      taskId,
      sourceId: null,
      knowledgeBase: 'default',
      state: 'running',
    });
    expect(received[2]!.body.report).toMatchObject({ new: 0, changed: 0, failed: 0 });
    // Nothing more comes: the job completed.
    await new Promise((r) => setTimeout(r, 500));
    expect(received).toHaveLength(3);
    expect(await producer.queue(QueueName.webhook).getJobCounts('completed', 'failed', 'delayed', 'waiting')).toEqual({
      completed: 1,
      failed: 0,
      delayed: 0,
      waiting: 0,
    });
  }, 60_000);

  it('with private networks refused, a loopback receiver is refused at delivery, once, and the log says why', async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    received.length = 0;
    failFirst = 0;
    startWorker(false);
    const taskId = await crawlTask(['run.completed']);
    await tasks.finish(taskId);
    expect(await emitWebhookEvent({ webhooks, producer }, taskId, 'run.completed')).toBe(true);
    const log = await until('the refused attempt logged', async () => {
      const rows = await webhooks.list(tenantId, { taskId });
      return rows.length > 0 ? rows : undefined;
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ attempt: 1, outcome: 'failed', event: 'run.completed' });
    expect(log[0]!.error).toMatch(/refusing 127\.0\.0\.1: it resolves to 127\.0\.0\.1/);
    expect(log[0]!.statusCode).toBeUndefined();
    const job = await until('the job failed for good', async () =>
      (await producer.queue(QueueName.webhook).getJobCounts('failed')).failed === 1 ? true : undefined,
    );
    expect(job).toBe(true);
    expect(received).toEqual([]);
  }, 60_000);
});
