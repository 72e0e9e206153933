// The address guard seen from the outside: the API accepts any http(s) URL
// (it cannot know where a hostname resolves; the scraper decides, after DNS),
// and a crawl of the cloud metadata endpoint ends `failed` with the refusal
// in its task status. api, scraper and aggregator run as real processes.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, artifactDir, startE2eStack, type E2eStack, type Stack } from '@kbflow/testing';

const KEY = 'ssrf-dev-key';

let e2e: E2eStack;
let stack: Stack;
let local: Server;
let localHits = 0;
let localUrl: string;

const client = apiClient(() => stack.apiUrl, KEY);
const api = client.call;

const finished = (taskId: string, timeoutMs = 60_000) => client.waitForTask(taskId, timeoutMs);

beforeAll(async () => {
  local = createServer((_req, res) => {
    localHits++;
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><main><h1>internal admin</h1></main></body></html>');
  });
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  const address = local.address();
  localUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  e2e = await startE2eStack('ssrf', {
    services: ['api', 'scraper', 'aggregator'],
    logDir: artifactDir('ssrf-pipeline'),
    env: { KBFLOW_ALLOW_PRIVATE_NETWORKS: 'false', KBFLOW_DEV_API_KEY: KEY, KBFLOW_ADMIN_API_KEY: 'ssrf-admin-key', KBFLOW_FETCH_TIMEOUT_MS: '5000' },
  });
  stack = e2e.stack;
}, 120_000);

afterAll(async () => {
  await e2e?.teardown();
  await new Promise((r) => local?.close(r));
}, 60_000);

describe('private addresses through the whole pipeline', () => {
  it('a crawl of the cloud metadata endpoint is accepted, then ends failed with blocked_address in its status', async () => {
    const res = await api('POST', '/v1/crawl', { url: 'http://169.254.169.254/latest/meta-data', maxPages: 5 });
    expect(res.status).toBe(202);
    const task = await finished(res.json.taskId);
    expect(task.state).toBe('failed');
    expect(task.progress).toMatchObject({ discovered: 1, failed: 1, scraped: 0, embedded: 0 });
    expect(task.error).toBe('blocked_address: refusing 169.254.169.254: it resolves to 169.254.169.254, a private, loopback, link-local or metadata address');
  }, 90_000);

  it('a batch of loopback and private URLs, on either engine, fails page by page and never reaches the local server', async () => {
    for (const engine of ['http', 'browser'] as const) {
      const res = await api('POST', '/v1/scrape/batch', { urls: [localUrl, 'http://10.0.0.1/admin', 'http://[::1]/'], engine });
      expect(res.status).toBe(202);
      const task = await finished(res.json.taskId);
      expect([engine, task.state, task.progress.failed]).toEqual([engine, 'failed', 3]);
      expect(task.error).toMatch(/^blocked_address: refusing /);
    }
    expect(localHits).toBe(0);
  }, 120_000);
});
