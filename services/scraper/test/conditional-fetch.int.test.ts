// The HTTP engine's conditional requests against a real local site
// (@kbflow/testing's static server, which serves ETag / Last-Modified and
// answers 304): the validators of a response come back, sending them gets a
// 304 with no body read, an edit gets the new page, a removal a 404 the
// scrape processor can tell from a broken page.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStaticServer, type StaticServer } from '@kbflow/testing';
import { HttpStatusError } from '../src/fetchers/fetched-page.ts';
import { HttpFetcher } from '../src/fetchers/http-fetcher.ts';

let dir: string;
let site: StaticServer;
let fetcher: HttpFetcher;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kbflow-conditional-'));
  await writeFile(path.join(dir, 'page.html'), '<html><body><p>first version</p></body></html>');
  site = await startStaticServer(dir, { '/inline.html': '<html><body><p>inline</p></body></html>' });
  fetcher = new HttpFetcher({ allowPrivateNetworks: true, maxBytes: 1_000_000, timeoutMs: 10_000, maxRedirects: 3, userAgent: 'kbflow-test' });
});

afterAll(async () => {
  await fetcher?.close();
  await site?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('conditional requests', () => {
  it('returns the validators, and a request carrying them is answered 304 without a body', async () => {
    const first = await fetcher.fetch(`${site.url}/page.html`);
    expect(first.status).toBe(200);
    expect(first.html).toContain('first version');
    expect(first.validators?.etag).toMatch(/^"/);
    expect(first.validators?.lastModified).toMatch(/GMT$/);

    const again = await fetcher.fetch(`${site.url}/page.html`, first.validators);
    expect(again).toEqual(expect.objectContaining({ status: 304, notModified: true, html: '' }));
    expect(again.validators).toEqual(first.validators);
    expect(site.log.at(-1)).toEqual(expect.objectContaining({ path: '/page.html', status: 304, conditional: true, bytes: 0 }));
  });

  it('an edited page is downloaded again, with new validators', async () => {
    const before = await fetcher.fetch(`${site.url}/page.html`);
    await writeFile(path.join(dir, 'page.html'), '<html><body><p>second version, a little longer</p></body></html>');
    const after = await fetcher.fetch(`${site.url}/page.html`, before.validators);
    expect(after.status).toBe(200);
    expect(after.notModified).toBeUndefined();
    expect(after.html).toContain('second version');
    expect(after.validators?.etag).not.toBe(before.validators?.etag);
  });

  it('Last-Modified alone is sent as If-Modified-Since', async () => {
    const first = await fetcher.fetch(`${site.url}/inline.html`);
    const again = await fetcher.fetch(`${site.url}/inline.html`, { etag: null, lastModified: first.validators!.lastModified });
    expect(again.status).toBe(304);
  });

  it('a removed page fails with its status (404), which marks it gone', async () => {
    const error = await fetcher.fetch(`${site.url}/missing.html`, { etag: '"old"', lastModified: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).httpStatus).toBe(404);
  });
});
