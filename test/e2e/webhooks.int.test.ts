// Webhooks end to end (kbflow issue 11, item 7): the five services as real
// processes, a local site, and a local receiver the test starts, which
// verifies every delivery's signature with its own HMAC and fails on demand.
// - a source run's run.started and run.completed arrive signed, with the
//   run's report; a receiver that answers 500 twice still gets the event,
//   exactly once with a 2xx, under one delivery id, and the source's
//   delivery log shows the three attempts;
// - a one-shot crawl's webhook gets only the events it subscribed to, and
//   its log is in GET /v1/tasks/:id/webhook-deliveries.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, artifactDir, startE2eStack, type E2eStack } from '@kbflow/testing';

const KEY = 'webhooks-e2e-key';
const SECRET = 'whsec-e2e-0123456789abcdef';
const CRAWL_SECRET = 'crawl-secret-fedcba9876543210';

/** One POST the receiver got, with whether its signature verified (computed here, independently of kbflow's code). */
interface Received {
  path: string;
  deliveryId: string;
  event: string;
  signatureValid: boolean;
  status: number;
  body: any;
}

/**
 * The receiver: `failFirst["<path> <event>"]` is how many POSTs of each
 * such delivery it answers 500 before it accepts one.
 */
async function startReceiver(secrets: Record<string, string>, failFirst: Record<string, number>) {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://receiver').pathname;
      const secret = secrets[path] ?? '';
      const header = String(req.headers['kbflow-signature'] ?? '');
      const t = /(?:^|,)t=(\d+)/.exec(header)?.[1] ?? '';
      const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1] ?? '';
      const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');
      const signatureValid =
        v1.length === 64 && timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(expected, 'hex')) && Math.abs(Date.now() / 1000 - Number(t)) < 300;
      const deliveryId = String(req.headers['kbflow-delivery'] ?? '');
      const event = String(req.headers['kbflow-event'] ?? '');
      const n = (seen.get(deliveryId) ?? 0) + 1;
      seen.set(deliveryId, n);
      const status = n <= (failFirst[`${path} ${event}`] ?? 0) ? 500 : 204;
      received.push({ path, deliveryId, event, signatureValid, status, body: JSON.parse(raw) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function startSite() {
  const page = (title: string, links: string[]) =>
    `<!doctype html><html><head><title>${title}</title></head><body><main><h1>${title}</h1><p>The ${title} page of the webhook site.</p>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</main></body></html>`;
  const pages: Record<string, string> = { '/index.html': page('Index', ['a.html']), '/a.html': page('Anchor', []) };
  const server: Server = createServer((req, res) => {
    const html = pages[new URL(req.url ?? '/', 'http://site').pathname];
    if (html === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let e2e: E2eStack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let site: Awaited<ReturnType<typeof startSite>>;
const client = apiClient(() => e2e.stack.apiUrl, KEY);
const api = client.call;

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  // The completed event of the source's run fails twice before it is accepted.
  receiver = await startReceiver({ '/source': SECRET, '/crawl': CRAWL_SECRET }, { '/source run.completed': 2 });
  site = await startSite();
  e2e = await startE2eStack('webhooks', { logDir: artifactDir('e2e-webhooks'), env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'true', KBFLOW_DEV_API_KEY: KEY } });
}, 120_000);

afterAll(async () => {
  await e2e?.teardown();
  await receiver?.close();
  await site?.close();
}, 60_000);

describe('webhooks', () => {
  it("a source run's events arrive signed; a receiver that fails twice still gets run.completed, once, under one delivery id", async () => {
    const created = await api('POST', '/v1/sources', {
      type: 'site',
      url: `${site.url}/index.html`,
      schedule: { cron: '0 0 1 1 *' },
      webhook: { url: `${receiver.url}/source`, events: ['run.started', 'run.completed', 'run.failed'], secret: SECRET },
    });
    expect(created.status).toBe(201);
    expect(created.json.webhook).toEqual({
      url: `${receiver.url}/source`,
      events: ['run.started', 'run.completed', 'run.failed'],
      secretHint: `…${SECRET.slice(-4)}`,
    });
    expect(JSON.stringify(created.json)).not.toContain(SECRET);
    const sourceId = created.json.id as string;

    const run = await api('POST', `/v1/sources/${sourceId}/runs`);
    expect(run.status).toBe(202);
    const taskId = run.json.taskId as string;
    const task = await client.waitForTask(taskId, 60_000);
    expect(task.state).toBe('completed');

    const fromSource = () => receiver.received.filter((r) => r.path === '/source');
    await until('run.completed accepted', () => fromSource().find((r) => r.event === 'run.completed' && r.status === 204));
    const got = fromSource();
    expect(got.every((r) => r.signatureValid)).toBe(true);

    const started = got.filter((r) => r.event === 'run.started');
    expect(started.map((r) => r.status)).toEqual([204]);
    expect(started[0]!.body).toMatchObject({
      event: 'run.started',
      taskId,
      sourceId,
      knowledgeBase: 'default',
      state: 'running',
      deliveryId: started[0]!.deliveryId,
    });

    const completed = got.filter((r) => r.event === 'run.completed');
    expect(completed.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(completed.map((r) => r.deliveryId)).size).toBe(1);
    expect(completed[0]!.deliveryId).not.toBe(started[0]!.deliveryId);
    expect(completed[2]!.body).toMatchObject({
      event: 'run.completed',
      taskId,
      sourceId,
      state: 'completed',
      report: { new: 2, failed: 0, stopReason: 'done' },
    });
    expect(completed[2]!.body.finishedAt).toBe(task.finishedAt);

    const log = await api('GET', `/v1/sources/${sourceId}/webhook-deliveries`);
    expect(log.status).toBe(200);
    const attempts = (log.json.deliveries as any[]).filter((d) => d.event === 'run.completed').reverse();
    expect(attempts.map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'succeeded', 204],
    ]);
    expect(attempts[0]).toMatchObject({ taskId, deliveryId: completed[0]!.deliveryId, url: `${receiver.url}/source`, error: 'answered 500' });
    const taskLog = await api('GET', `/v1/tasks/${taskId}/webhook-deliveries`);
    expect(taskLog.json.deliveries).toHaveLength(4);
  }, 120_000);

  it("a one-shot crawl's webhook gets only the events it subscribed to", async () => {
    const crawl = await api('POST', '/v1/crawl', {
      url: `${site.url}/index.html`,
      knowledgeBase: 'oneshot',
      webhook: { url: `${receiver.url}/crawl`, events: ['run.completed'], secret: CRAWL_SECRET },
    });
    expect(crawl.status).toBe(202);
    const taskId = crawl.json.taskId as string;
    const task = await client.waitForTask(taskId, 60_000);
    expect(task.webhook).toEqual({ url: `${receiver.url}/crawl`, events: ['run.completed'], secretHint: `…${CRAWL_SECRET.slice(-4)}` });
    const fromCrawl = () => receiver.received.filter((r) => r.path === '/crawl');
    await until('the crawl event accepted', () => fromCrawl().find((r) => r.status === 204));
    expect(fromCrawl().every((r) => r.signatureValid && r.event === 'run.completed' && r.body.taskId === taskId && r.body.sourceId === null)).toBe(true);
    const log = await api('GET', `/v1/tasks/${taskId}/webhook-deliveries`);
    expect((log.json.deliveries as any[]).map((d) => [d.event, d.attempt, d.outcome])).toEqual([['run.completed', 1, 'succeeded']]);
  }, 120_000);
});
