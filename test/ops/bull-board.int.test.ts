import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Priority, priorityClass } from '@kbflow/queues';
import { artifactDir, createTestDatabase, startService, testRedisUrl, uniquePrefix, type ServiceProcess, type TestDatabase } from '@kbflow/testing';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { launchChromium, pngSize } from './support/bb-browser.ts';

// Bull Board as an operator meets it: the api process serves it, Chromium
// opens it with the admin key, and every other caller is turned away. Only
// the api runs, so the jobs this test submits stay where it put them.
const ADMIN_KEY = 'bb-admin-key';
const DEV_KEY = 'bb-dev-key';
const QUEUES = ['scrape', 'embed', 'aggregate', 'query', 'maintenance', 'webhook', 'dead-letter'];
// Never fetched: no scraper runs, so these stay queued for the board to show.
const URLS = ['https://docs.example.org/bb/alpha.html', 'https://docs.example.org/bb/beta.html', 'https://docs.example.org/bb/gamma.html'];
const ARTIFACTS = artifactDir('bull-board');
/** The queue page's actions menu (pause, empty, obliterate, ...). */
const QUEUE_ACTIONS = 'button[aria-haspopup="menu"]';

let database: TestDatabase;
let prefix: string;
let lanceDir: string;
let api: ServiceProcess;
let readOnlyApi: ServiceProcess;
let browser: Browser;
let apiUrl: string;
let readOnlyUrl: string;
let taskId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  prefix = uniquePrefix('bb');
  lanceDir = await mkdtemp(path.join(tmpdir(), 'kbflow-bb-lance-'));
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl(),
    KBFLOW_QUEUE_PREFIX: prefix,
    KBFLOW_LANCEDB_DIR: lanceDir,
    KBFLOW_DEV_API_KEY: DEV_KEY,
    KBFLOW_ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'info',
  };
  // One after the other: both upsert the same tenants and keys at start.
  api = await startService('api', env, { logDir: ARTIFACTS });
  readOnlyApi = await startService('api', { ...env, KBFLOW_BULL_BOARD_READ_ONLY: 'true' }, { logDir: ARTIFACTS, instance: 2 });
  apiUrl = `http://127.0.0.1:${api.port}`;
  readOnlyUrl = `http://127.0.0.1:${readOnlyApi.port}`;
  browser = await launchChromium();

  const res = await fetch(`${apiUrl}/v1/scrape/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ urls: URLS }),
  });
  expect(res.status).toBe(202);
  taskId = ((await res.json()) as { taskId: string }).taskId;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop('SIGTERM');
  await readOnlyApi?.stop('SIGTERM');
  await database?.drop();
  if (lanceDir) await rm(lanceDir, { recursive: true, force: true });
  const redis = new Redis(testRedisUrl());
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}, 60_000);

/** Bull Board's own JSON API (what its UI polls), as the admin. */
async function boardApi(base: string, method = 'GET', route = '/api/queues'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/admin/queues${route}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return { status: res.status, json: await res.json() };
}

/** The overview card of one queue: the list item holding its title link and its job total. */
function queueCard(page: Page, queue: string) {
  return page.locator('li', { has: page.locator(`a[title="${queue}"]`), hasText: /\d+ Jobs?\b/ });
}

async function withContext<T>(options: Parameters<Browser['newContext']>[0], fn: (page: Page, context: BrowserContext) => Promise<T>): Promise<T> {
  const context = await browser.newContext(options);
  try {
    return await fn(await context.newPage(), context);
  } finally {
    await context.close();
  }
}

describe('Bull Board behind the admin key', () => {
  it('with the admin key as the Basic password, the board lists the seven queues and the queued scrape jobs', async () => {
    await withContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } }, async (page) => {
      const response = await page.goto(`${apiUrl}/admin/queues`);
      expect(response?.status()).toBe(200);
      // The queue list is rendered by the UI's script from /api/queues, after the document loads.
      const sidebar = page.locator('#bull-board-sidebar');
      await sidebar.getByText('dead-letter', { exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
      for (const queue of QUEUES) {
        expect(await sidebar.getByText(queue, { exact: true }).isVisible()).toBe(true);
      }
      // The batch is three scrape jobs (prioritized, NORMAL) under one flow parent in aggregate.
      await queueCard(page, 'scrape').getByText('3 Jobs', { exact: true }).waitFor({ state: 'visible', timeout: 10_000 });
      expect(await queueCard(page, 'aggregate').getByText('1 Job', { exact: true }).isVisible()).toBe(true);
      expect(await queueCard(page, 'embed').getByText('0 Jobs', { exact: true }).isVisible()).toBe(true);

      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = path.join(ARTIFACTS, 'bull-board.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = await pngSize(shot);
      expect(png).toBeDefined();
      expect(png!.width).toBeGreaterThanOrEqual(800);
      expect(png!.height).toBeGreaterThanOrEqual(400);
      expect(png!.bytes).toBeGreaterThan(20_000);
    });
  }, 60_000);

  it("a queue's page shows each queued job with its URL, task and priority", async () => {
    await withContext({ extraHTTPHeaders: { authorization: `Bearer ${ADMIN_KEY}` } }, async (page) => {
      const response = await page.goto(`${apiUrl}/admin/queues/queue/scrape`);
      expect(response?.status()).toBe(200);
      for (const url of URLS) {
        await page.getByText(`"${url}"`).first().waitFor({ state: 'visible', timeout: 20_000 });
      }
      const text = await page.locator('body').innerText();
      expect(text).toContain(taskId);
      // Each job's BullMQ priority is its tenant's place in the NORMAL class's fair band (fair-scheduling.ts).
      const priorities = [...text.matchAll(/priority (\d+)/g)].map((m) => priorityClass(Number(m[1])));
      expect(priorities).toEqual(URLS.map(() => Priority.NORMAL));
      await page.screenshot({ path: path.join(ARTIFACTS, 'bull-board-scrape.png'), fullPage: true });

      // The writable board offers the queue's actions.
      await page.locator(QUEUE_ACTIONS).click();
      const actions = await page.getByRole('menuitem').allInnerTexts();
      expect(actions).toEqual(expect.arrayContaining(['Pause', 'Empty', 'Obliterate']));
      await page.keyboard.press('Escape');
    });
  }, 60_000);

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  it.each([
    { label: 'no credentials', options: {}, header: undefined, status: 401, prompted: true },
    {
      label: 'a key no tenant has',
      options: { httpCredentials: { username: 'admin', password: 'not-a-key' } },
      header: basic('admin', 'not-a-key'),
      status: 401,
      prompted: false,
    },
    {
      label: "the dev tenant's key as the Basic password",
      options: { httpCredentials: { username: 'dev', password: DEV_KEY } },
      header: basic('dev', DEV_KEY),
      status: 403,
      prompted: false,
    },
    {
      label: "the dev tenant's key as a Bearer token",
      options: { extraHTTPHeaders: { authorization: `Bearer ${DEV_KEY}` } },
      header: `Bearer ${DEV_KEY}`,
      status: 403,
      prompted: false,
    },
  ])(
    'with $label the page answers $status and no queue is shown',
    async ({ options, header, status, prompted }) => {
      await withContext(options, async (page) => {
        const target = `${apiUrl}/admin/queues`;
        const answers: Response[] = [];
        page.on('response', (r) => {
          if (r.url() === target) answers.push(r);
        });
        // With no credentials at all, headless Chromium cannot answer the Basic
        // prompt and aborts the navigation; the 401 still reached it.
        const navigation = await page.goto(target).then(
          (r) => r?.status(),
          (error: Error) => error.message,
        );
        const final = answers.at(-1);
        expect(final?.status()).toBe(status);
        expect(navigation).toEqual(prompted ? expect.stringContaining('ERR_INVALID_AUTH_CREDENTIALS') : status);
        // The browser is asked for Basic credentials, and is only ever shown the error.
        expect(final?.headers()['www-authenticate']).toBe('Basic realm="kbflow admin"');
        const text = await page.locator('body').innerText();
        for (const queue of QUEUES) expect(text).not.toContain(queue);
        expect(await page.locator('#bull-board-sidebar').count()).toBe(0);

        // The UI's data API and its actions are guarded the same way.
        const headers: Record<string, string> = header ? { authorization: header } : {};
        const data = await fetch(`${apiUrl}/admin/queues/api/queues`, { headers });
        expect(data.status).toBe(status);
        expect(((await data.json()) as { error: { code: string } }).error.code).toBe(status === 401 ? 'unauthorized' : 'forbidden');
        const pause = await fetch(`${apiUrl}/admin/queues/api/queues/scrape/pause`, { method: 'PUT', headers });
        expect(pause.status).toBe(status);
      });
      const board = await boardApi(apiUrl);
      expect(board.json.queues.find((q: { name: string }) => q.name === 'scrape').isPaused).toBe(false);
    },
    60_000,
  );
});

describe('KBFLOW_BULL_BOARD_READ_ONLY', () => {
  it('marks every queue read-only and refuses actions, while the default board allows them', async () => {
    const readOnly = await boardApi(readOnlyUrl);
    expect(readOnly.status).toBe(200);
    expect(readOnly.json.queues.map((q: { name: string }) => q.name).sort()).toEqual([...QUEUES].sort());
    for (const queue of readOnly.json.queues) {
      expect({ name: queue.name, readOnlyMode: queue.readOnlyMode, allowRetries: queue.allowRetries }).toEqual({
        name: queue.name,
        readOnlyMode: true,
        allowRetries: false,
      });
    }
    // The same Redis queues, so the read-only board still shows the jobs.
    expect(readOnly.json.queues.find((q: { name: string }) => q.name === 'scrape').counts.prioritized).toBe(URLS.length);

    const refused = await boardApi(readOnlyUrl, 'PUT', '/api/queues/scrape/pause');
    expect(refused).toEqual({ status: 405, json: { error: { key: 'ERRORS.QUEUE_READ_ONLY' } } });
    const cleaned = await boardApi(readOnlyUrl, 'PUT', '/api/queues/scrape/empty');
    expect(cleaned.status).toBe(405);
    const after = await boardApi(readOnlyUrl);
    const scrape = after.json.queues.find((q: { name: string }) => q.name === 'scrape');
    expect({ isPaused: scrape.isPaused, prioritized: scrape.counts.prioritized }).toEqual({ isPaused: false, prioritized: URLS.length });

    // The default board is writable: the same action goes through (and is undone).
    const writable = await boardApi(apiUrl);
    expect(writable.json.queues.every((q: { readOnlyMode: boolean }) => q.readOnlyMode === false)).toBe(true);
    expect((await boardApi(apiUrl, 'PUT', '/api/queues/scrape/pause')).status).toBe(200);
    expect((await boardApi(apiUrl)).json.queues.find((q: { name: string }) => q.name === 'scrape').isPaused).toBe(true);
    expect((await boardApi(apiUrl, 'PUT', '/api/queues/scrape/resume')).status).toBe(200);
    expect((await boardApi(apiUrl)).json.queues.find((q: { name: string }) => q.name === 'scrape').isPaused).toBe(false);
  }, 60_000);

  it('the read-only board shows the queues and jobs to the admin, without the queue actions', async () => {
    await withContext({ httpCredentials: { username: 'admin', password: ADMIN_KEY } }, async (page) => {
      const response = await page.goto(`${readOnlyUrl}/admin/queues`);
      expect(response?.status()).toBe(200);
      const sidebar = page.locator('#bull-board-sidebar');
      await sidebar.getByText('dead-letter', { exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
      for (const queue of QUEUES) expect(await sidebar.getByText(queue, { exact: true }).isVisible()).toBe(true);
      await queueCard(page, 'scrape').getByText('3 Jobs', { exact: true }).waitFor({ state: 'visible', timeout: 10_000 });

      await page.goto(`${readOnlyUrl}/admin/queues/queue/scrape`);
      for (const url of URLS) {
        await page.getByText(`"${url}"`).first().waitFor({ state: 'visible', timeout: 20_000 });
      }
      expect(await page.locator(QUEUE_ACTIONS).count()).toBe(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'bull-board-read-only.png'), fullPage: true });
    });
  }, 60_000);
});
