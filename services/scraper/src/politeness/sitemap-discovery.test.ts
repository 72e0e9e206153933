import { gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { FetchResource } from './robots-cache.ts';
import { discoverSitemapUrls } from './sitemap-discovery.ts';

const ORIGIN = 'https://docs.example';
const log = pino({ level: 'silent' });
const urlset = (paths: string[]) => `<urlset>${paths.map((p) => `<url><loc>${ORIGIN}${p}</loc></url>`).join('')}</urlset>`;
const index = (urls: string[]) => `<sitemapindex>${urls.map((u) => `<sitemap><loc>${u}</loc></sitemap>`).join('')}</sitemapindex>`;

/** A site of files by URL; records what was asked. */
function site(files: Record<string, string | Buffer>) {
  const asked: string[] = [];
  const fetchResource: FetchResource = async (url, maxBytes) => {
    asked.push(url);
    const body = files[url];
    if (body === undefined) return { status: 404, finalUrl: url, contentType: 'text/plain', body: Buffer.alloc(0) };
    return { status: 200, finalUrl: url, contentType: 'application/xml', body: Buffer.from(body).subarray(0, maxBytes) };
  };
  return { asked, fetchResource };
}

const limits = { maxBytes: 1_000_000, maxFiles: 20, maxUrls: 1000 };

describe('discoverSitemapUrls', () => {
  it('reads an index and its gzip sitemap, keeping only URLs of the origin, each once', async () => {
    const { fetchResource } = site({
      [`${ORIGIN}/sitemap.xml`]: index([`${ORIGIN}/a.xml.gz`, 'https://evil.example/s.xml']),
      [`${ORIGIN}/a.xml.gz`]: gzipSync(urlset(['/one.html', '/two.html', '/one.html'])),
    });
    const found = await discoverSitemapUrls(ORIGIN, [`${ORIGIN}/sitemap.xml`], fetchResource, limits, log);
    expect(found.map((e) => e.url)).toEqual([`${ORIGIN}/one.html`, `${ORIGIN}/two.html`]);
  });

  it('does not follow an index nested in an index, nor one that lists itself', async () => {
    const { asked, fetchResource } = site({
      [`${ORIGIN}/sitemap.xml`]: index([`${ORIGIN}/sitemap.xml`, `${ORIGIN}/inner.xml`]),
      [`${ORIGIN}/inner.xml`]: index([`${ORIGIN}/deep.xml`]),
      [`${ORIGIN}/deep.xml`]: urlset(['/deep.html']),
    });
    expect(await discoverSitemapUrls(ORIGIN, [`${ORIGIN}/sitemap.xml`], fetchResource, limits, log)).toEqual([]);
    expect(asked).toEqual([`${ORIGIN}/sitemap.xml`, `${ORIGIN}/inner.xml`]);
  });

  it('reads at most maxFiles files and collects at most maxUrls URLs', async () => {
    const children = Array.from({ length: 50 }, (_, i) => `${ORIGIN}/s${i}.xml`);
    const files: Record<string, string> = { [`${ORIGIN}/sitemap.xml`]: index(children) };
    for (const [i, c] of children.entries()) files[c] = urlset(Array.from({ length: 10 }, (_, j) => `/p${i}-${j}.html`));
    const { asked, fetchResource } = site(files);
    const found = await discoverSitemapUrls(ORIGIN, [`${ORIGIN}/sitemap.xml`], fetchResource, { ...limits, maxFiles: 5 }, log);
    expect(asked).toHaveLength(5);
    expect(found).toHaveLength(40);
    const capped = await discoverSitemapUrls(ORIGIN, [`${ORIGIN}/sitemap.xml`], site(files).fetchResource, { ...limits, maxUrls: 25 }, log);
    expect(capped).toHaveLength(25);
  });

  it('skips a gzip that inflates past maxBytes, and a missing sitemap, without failing', async () => {
    const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
    const { fetchResource } = site({ [`${ORIGIN}/bomb.xml.gz`]: bomb, [`${ORIGIN}/ok.xml`]: urlset(['/ok.html']) });
    const found = await discoverSitemapUrls(
      ORIGIN,
      [`${ORIGIN}/bomb.xml.gz`, `${ORIGIN}/missing.xml`, `${ORIGIN}/ok.xml`],
      fetchResource,
      { ...limits, maxBytes: 100_000 },
      log,
    );
    expect(found.map((e) => e.url)).toEqual([`${ORIGIN}/ok.html`]);
  });
});
