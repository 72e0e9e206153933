// Webhook fields and delivery logs through the real API (in-process) over the
// real Redis and PostgreSQL, with private networks refused (the default):
// bad webhooks are a 400 naming the field with nothing written, the secret
// is shown only as a hint, and delivery logs are the tenant's own. Deliveries
// themselves: services/maintenance/test/webhook-delivery.int.test.ts and
// test/e2e/webhooks.int.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TaskRepository, WebhookRepository, type Db } from '@kbflow/db';
import { OTHER_KEY, startTestApi, type TestApi } from './support/test-api.ts';

let api: TestApi;
let db: Db;

beforeAll(async () => {
  api = await startTestApi({ label: 'webhooks' });
  db = api.db;
});

afterAll(async () => {
  await api.close();
});

const SECRET = 'a-webhook-secret-0123456789';
// A public address literal: accepted without DNS (the build machine has none).
const PUBLIC_URL = 'http://93.184.216.34/hooks/kbflow';
const site = { type: 'site', url: 'http://docs.example/start', schedule: { cron: '0 3 * * *' } };

async function written() {
  return { sources: await db.source.count(), tasks: await db.task.count(), jobs: await api.jobTotal() };
}

describe('webhook input', () => {
  const bad: [string, unknown, string][] = [
    ['an unknown event', { url: PUBLIC_URL, events: ['run.exploded'], secret: SECRET }, 'webhook.events.0'],
    ['a repeated event', { url: PUBLIC_URL, events: ['run.failed', 'run.failed'], secret: SECRET }, 'webhook.events'],
    ['no event', { url: PUBLIC_URL, events: [], secret: SECRET }, 'webhook.events'],
    ['a short secret', { url: PUBLIC_URL, secret: 'short-secret' }, 'webhook.secret'],
    ['no secret', { url: PUBLIC_URL }, 'webhook.secret'],
    ['a non-http URL', { url: 'ftp://93.184.216.34/hook', secret: SECRET }, 'webhook.url'],
    ['an unknown field', { url: PUBLIC_URL, secret: SECRET, retries: 3 }, 'webhook.retries'],
    ['a loopback address', { url: 'http://127.0.0.1:9/hook', secret: SECRET }, 'webhook.url'],
    ['localhost', { url: 'http://localhost:8080/hook', secret: SECRET }, 'webhook.url'],
    ['a private address', { url: 'http://10.1.2.3/hook', secret: SECRET }, 'webhook.url'],
    ['the metadata address', { url: 'http://169.254.169.254/latest', secret: SECRET }, 'webhook.url'],
    ['an IPv6 loopback', { url: 'http://[::1]/hook', secret: SECRET }, 'webhook.url'],
  ];

  it.each(bad)('%s is a 400 naming the field on POST /v1/sources and POST /v1/crawl, and nothing is written', async (_what, webhook, field) => {
    const before = await written();
    for (const [path, body] of [
      ['/v1/sources', { ...site, webhook }],
      ['/v1/crawl', { url: 'http://docs.example/', webhook }],
    ] as const) {
      const res = await api.send('POST', path, { body });
      expect([path, res.status, res.json.error.field]).toEqual([path, 400, field]);
    }
    expect(await written()).toEqual(before);
  });

  it('a private address is a 400 on PATCH too, and the source keeps its webhook', async () => {
    const created = await api.send('POST', '/v1/sources', { body: { ...site, webhook: { url: PUBLIC_URL, secret: SECRET } } });
    expect(created.status).toBe(201);
    const res = await api.send('PATCH', `/v1/sources/${created.json.id}`, { body: { webhook: { url: 'http://192.168.0.10/hook', secret: SECRET } } });
    expect([res.status, res.json.error.field]).toEqual([400, 'webhook.url']);
    expect((await api.send('GET', `/v1/sources/${created.json.id}`)).json.webhook.url).toBe(PUBLIC_URL);
  });
});

describe('webhook secrets and delivery logs', () => {
  it('stores the secret but shows only its last 4 characters; all three events by default; PATCH replaces or removes it', async () => {
    const created = await api.send('POST', '/v1/sources', { body: { ...site, webhook: { url: PUBLIC_URL, secret: SECRET } } });
    expect(created.status).toBe(201);
    const hint = { url: PUBLIC_URL, events: ['run.started', 'run.completed', 'run.failed'], secretHint: `…${SECRET.slice(-4)}` };
    expect(created.json.webhook).toEqual(hint);
    const id = created.json.id as string;
    for (const res of [await api.send('GET', `/v1/sources/${id}`), await api.send('GET', '/v1/sources?limit=100')]) {
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(SECRET);
    }
    const row = await db.source.findUniqueOrThrow({ where: { id } });
    expect(row.webhook).toEqual({ url: PUBLIC_URL, events: ['run.started', 'run.completed', 'run.failed'], secret: SECRET });

    const next = 'another-secret-abcdefghijkl';
    const patched = await api.send('PATCH', `/v1/sources/${id}`, { body: { webhook: { url: PUBLIC_URL, events: ['run.failed'], secret: next } } });
    expect(patched.json.webhook).toEqual({ url: PUBLIC_URL, events: ['run.failed'], secretHint: '…ijkl' });
    const removed = await api.send('PATCH', `/v1/sources/${id}`, { body: { webhook: null } });
    expect(removed.status).toBe(200);
    expect(removed.json.webhook).toBeUndefined();
    expect((await db.source.findUniqueOrThrow({ where: { id } })).webhook).toBeNull();
  });

  it("a crawl's webhook shows in its task status as a hint", async () => {
    const res = await api.send('POST', '/v1/crawl', {
      body: { url: 'http://docs.example/', webhook: { url: PUBLIC_URL, events: ['run.completed'], secret: SECRET } },
    });
    expect(res.status).toBe(202);
    const task = await api.send('GET', `/v1/tasks/${res.json.taskId}`);
    expect(task.json.webhook).toEqual({ url: PUBLIC_URL, events: ['run.completed'], secretHint: `…${SECRET.slice(-4)}` });
    expect(task.text).not.toContain(SECRET);
  });

  it("keeps a target's newest 20 attempts, newest first; another tenant's source or task is a 404", async () => {
    const created = await api.send('POST', '/v1/sources', { body: { ...site, webhook: { url: PUBLIC_URL, secret: SECRET } } });
    const sourceId = created.json.id as string;
    const run = await api.send('POST', `/v1/sources/${sourceId}/runs`);
    const taskId = run.json.taskId as string;
    const webhooks = new WebhookRepository(db, new TaskRepository(db));
    const tenantId = (await db.source.findUniqueOrThrow({ where: { id: sourceId } })).tenantId;
    for (let attempt = 1; attempt <= 25; attempt++) {
      await webhooks.recordAttempt({
        tenantId,
        targetId: sourceId,
        taskId,
        deliveryId: `${taskId}.run.started`,
        event: 'run.started',
        url: PUBLIC_URL,
        attempt,
        outcome: 'failed',
        statusCode: 503,
        error: 'answered 503',
        durationMs: attempt,
      });
    }
    const log = await api.send('GET', `/v1/sources/${sourceId}/webhook-deliveries`);
    expect(log.status).toBe(200);
    expect(log.json.deliveries.map((d: { attempt: number }) => d.attempt)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    expect(log.json.deliveries[0]).toMatchObject({
      deliveryId: `${taskId}.run.started`,
      taskId,
      event: 'run.started',
      outcome: 'failed',
      statusCode: 503,
      error: 'answered 503',
      durationMs: 25,
    });
    expect(await db.webhookDelivery.count({ where: { targetId: sourceId } })).toBe(20);
    expect((await api.send('GET', `/v1/tasks/${taskId}/webhook-deliveries`)).json.deliveries).toHaveLength(20);

    const theirs = [
      await api.send('GET', `/v1/sources/${sourceId}/webhook-deliveries`, { key: OTHER_KEY }),
      await api.send('GET', `/v1/tasks/${taskId}/webhook-deliveries`, { key: OTHER_KEY }),
    ];
    expect(theirs.map((r) => [r.status, r.json.error.code])).toEqual([
      [404, 'source_not_found'],
      [404, 'task_not_found'],
    ]);
    // Deleting the source deletes its log.
    expect((await api.send('DELETE', `/v1/sources/${sourceId}`)).status).toBe(204);
    expect(await db.webhookDelivery.count({ where: { targetId: sourceId } })).toBe(0);
  });
});
