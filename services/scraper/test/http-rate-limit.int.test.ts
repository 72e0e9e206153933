import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rateLimitDelay } from '@kbflow/queues';
import { HttpFetcher } from '../src/fetchers/http-fetcher.ts';

// A site that throttles: its 429 (or 503) with Retry-After must become a
// "come back later" carrying the delay, not a failure; the scrape processor
// turns it into a back-off of that host (docs/crawling.md).
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/throttled') {
      res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' });
      res.end('slow down');
    } else if (req.url === '/maintenance') {
      res.writeHead(503, { 'retry-after': new Date(Date.now() + 5000).toUTCString() });
      res.end();
    } else {
      res.writeHead(429);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const fetcher = () => new HttpFetcher({ allowPrivateNetworks: true, maxBytes: 1_000_000, timeoutMs: 5000, maxRedirects: 3, userAgent: 'kbflow-test' });

describe('a site answering 429 or 503 with Retry-After', () => {
  it('gives a retryable error carrying the delay, which the scrape processor turns into a host back-off', async () => {
    const error = await fetcher()
      .fetch(`${base}/throttled`)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'http_status', retryable: true, retryAfterMs: 2000 });
    expect(rateLimitDelay(error)).toBe(2000);
  });

  it('reads an HTTP-date Retry-After too', async () => {
    const error = await fetcher()
      .fetch(`${base}/maintenance`)
      .catch((e: unknown) => e);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(2000);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(5000);
  });

  it('without Retry-After is an ordinary retryable failure (backoff, an attempt used)', async () => {
    const error = await fetcher()
      .fetch(`${base}/plain-429`)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'http_status', retryable: true });
    expect(rateLimitDelay(error)).toBeUndefined();
  });
});
