// deliverWebhook with the real sender (undici) to a local receiver, the
// webhook and its delivery log in real PostgreSQL: a delivery is signed
// with the secret read at send time and logged; a receiver's 500 is a
// retryable failure, a refused address a permanent one, each logged; a
// webhook removed or no longer subscribed is skipped without a request.
// (Retries through the real worker: test/webhook-delivery.int.test.ts.)
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TaskRepository, WebhookRepository, type Db } from '@kbflow/db';
import { createLogger } from '@kbflow/observability';
import { AppError, PermanentError } from '@kbflow/errors';
import { type JobContext, type JobData } from '@kbflow/queues';
import { createTenantFixture, type TenantFixture } from '@kbflow/testing';
import type { Job } from 'bullmq';
import { webhookSignature } from '../domain/webhook-signature.ts';
import { WebhookSender } from '../webhooks/webhook-sender.ts';
import { deliverWebhook, type DeliverWebhookDeps } from './deliver-webhook.processor.ts';

const SECRET = 'beside-test-secret-0123456789';
const NOW = Date.UTC(2026, 11, 2, 7, 0, 0);
const log = createLogger('deliver-webhook-test', 'silent');
// deliverWebhook reads the attempt (attemptsMade + 1) and the logger from its context.
const ctxAt = (attemptsMade: number): JobContext => ({ job: { id: 'deliver-test', attemptsMade } as unknown as Job, log, correlationId: 'deliver-test' });

let fixture: TenantFixture;
let db: Db;
let tasks: TaskRepository;
let webhooks: WebhookRepository;
let tenantId: string;
let knowledgeBaseId: string;
let receiver: Server;
let receiverUrl: string;
let answer = 200;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const senders: WebhookSender[] = [];

function depsFor(allowPrivateNetworks: boolean): DeliverWebhookDeps {
  const sender = new WebhookSender({ allowPrivateNetworks, timeoutMs: 5000 });
  senders.push(sender);
  return { webhooks, send: sender.send.bind(sender), now: () => NOW };
}

/** A crawl task with a webhook on `events`, and the job data of its `run.completed` delivery. */
async function delivery(events: ('run.started' | 'run.completed' | 'run.failed')[]): Promise<JobData<'webhook', 'deliver-webhook'>> {
  const taskId = await tasks.createCrawlTask({
    tenantId,
    knowledgeBaseId,
    type: 'crawl',
    params: { seeds: ['http://site.test/'], maxPages: 1, maxDepth: 0, engine: 'http', origins: ['http://site.test'] },
    webhook: { url: `${receiverUrl}/hook`, events, secret: SECRET },
  });
  return { tenantId, taskId, targetId: taskId, deliveryId: `${taskId}.run.completed`, event: 'run.completed', payload: { event: 'run.completed', taskId } };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

beforeAll(async () => {
  fixture = await createTenantFixture('deliver-webhook');
  ({ db, tenantId, knowledgeBaseId } = fixture);
  tasks = new TaskRepository(db);
  webhooks = new WebhookRepository(db, tasks);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await new Promise((resolve) => receiver.close(resolve));
  await fixture.close();
});

beforeEach(() => {
  answer = 200;
  received.length = 0;
});

describe('deliverWebhook', () => {
  it('POSTs the payload signed with the secret at the pinned time, under the delivery id, and logs the attempt as succeeded', async () => {
    const data = await delivery(['run.completed']);
    expect(await deliverWebhook(data, ctxAt(0), depsFor(true))).toEqual({ outcome: 'delivered', statusCode: 200, attempt: 1 });

    expect(received).toHaveLength(1);
    const [{ headers, body }] = received as [(typeof received)[number]];
    expect(JSON.parse(body)).toEqual(data.payload);
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'kbflow-event': 'run.completed',
      'kbflow-delivery': data.deliveryId,
      'kbflow-signature': webhookSignature(SECRET, NOW / 1000, body),
    });
    expect((await webhooks.list(tenantId, { taskId: data.taskId })).map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([[1, 'succeeded', 200]]);
  });

  it("a receiver's 500 fails the attempt with a retryable webhook_failed, logged with its status", async () => {
    answer = 500;
    const data = await delivery(['run.completed']);
    const error = await failure(deliverWebhook(data, ctxAt(1), depsFor(true)));
    expect(error).toBeInstanceOf(AppError);
    expect(error).not.toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'webhook_failed', retryable: true });
    expect((await webhooks.list(tenantId, { taskId: data.taskId })).map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([[2, 'failed', 500]]);
  });

  it('a receiver on a refused (loopback) address fails for good with webhook_refused, without a request, logged with the reason', async () => {
    const data = await delivery(['run.completed']);
    const error = await failure(deliverWebhook(data, ctxAt(0), depsFor(false)));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'webhook_refused', retryable: false });
    expect(received).toEqual([]);
    const [logged] = await webhooks.list(tenantId, { taskId: data.taskId });
    expect(logged).toMatchObject({ attempt: 1, outcome: 'failed', error: expect.stringMatching(/\S/) });
    expect(logged?.statusCode ?? null).toBeNull();
  });

  it('a webhook that no longer subscribes to the event, or was removed, is skipped: no request, nothing logged', async () => {
    const unsubscribed = await delivery(['run.failed']);
    expect(await deliverWebhook(unsubscribed, ctxAt(0), depsFor(true))).toEqual({
      outcome: 'skipped',
      reason: 'the webhook no longer subscribes to run.completed',
    });
    const removed = await delivery(['run.completed']);
    await db.$executeRaw`UPDATE tasks SET webhook = NULL WHERE id = ${removed.taskId}::uuid`;
    expect(await deliverWebhook(removed, ctxAt(0), depsFor(true))).toEqual({ outcome: 'skipped', reason: 'the webhook was removed' });
    expect(received).toEqual([]);
    expect(await webhooks.list(tenantId, { taskId: unsubscribed.taskId })).toEqual([]);
    expect(await webhooks.list(tenantId, { taskId: removed.taskId })).toEqual([]);
  });
});
